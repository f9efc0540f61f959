/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: symbol export macro.
 *
 * The library is compiled with -fvisibility=hidden and SGAD_BUILDING defined,
 * so only functions marked SGAD_API are visible to users of libsgad.so.
 * Consumers include this header without defining anything. */
#ifndef SGAD_EXPORT_H
#define SGAD_EXPORT_H

#if defined(_WIN32) && defined(SGAD_BUILDING)
#define SGAD_API __declspec(dllexport)
#elif defined(_WIN32)
#define SGAD_API
#elif defined(SGAD_BUILDING) && defined(__GNUC__)
#define SGAD_API __attribute__((visibility("default")))
#else
#define SGAD_API
#endif

#endif /* SGAD_EXPORT_H */
