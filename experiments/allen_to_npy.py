#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Allen Brain Observatory's Visual Coding - Neuropixels data as the
files sgad-similarity reads: the Natural Scenes stimuli and one
[stimuli x units] matrix per visual area. Not run here (AllenSDK is not
installed in CI, and the data are tens of GB); docs/similarity.md says how
to reproduce the paper's Figs. 7-8 with it.

What it does, stated so the choice can be judged:
  sessions   every session of type brain_observatory_1.1 in the project's
             session table (the type that shows Natural Scenes), or the
             first --max-sessions of them by id; units of all sessions are
             pooled per area (a pseudo-population, as the six areas are
             recorded together but in different mice)
  units      those get_session_data returns with the AllenSDK's default
             quality filters (ISI violations < 0.5, amplitude cutoff < 0.1,
             presence ratio > 0.9), whose ecephys_structure_acronym is one of
             VISp, VISl, VISrl, VISal, VISpm, VISam, and whose mean count is
             not the same for every image (sgad-similarity refuses constant
             units)
  stimuli    the 118 Natural Scenes images, frames 0..117 (the blank,
             frame -1, is left out), in frame order: row i of every matrix
             is the response to frame i
  response   spikes in [--start, --stop) seconds after each presentation's
             onset (default 0.05-0.25 s: after the response latency, within
             the 0.25 s a scene is shown), averaged over the presentations
             of that frame (about 50 per session)
Outputs in --out:
  natural_scenes.idx.gz    the 118 templates as an unsigned-byte IDX3 file at
                           their own 918x1174 size (sgad-similarity crops and
                           resizes them to the model's input)
  <AREA>.npy               float32 [118 x units] per area, C order
  units.csv                session, unit id and area of every column
  summary.json             sessions, counts per area, the window

  allen_to_npy.py --manifest ~/allen/manifest.json --out allen [--max-sessions N]
"""
import argparse
import csv
import gzip
import json
import os
import sys

import numpy as np

AREAS = ["VISp", "VISl", "VISrl", "VISal", "VISpm", "VISam"]
SCENES = 118


def need_allensdk():
    try:
        from allensdk.brain_observatory.ecephys.ecephys_project_cache import EcephysProjectCache
    except ImportError:
        sys.exit("allen_to_npy: this script needs the AllenSDK (pip install allensdk) and the "
                 "Visual Coding - Neuropixels data; it is not installed here. "
                 "See docs/similarity.md.")
    return EcephysProjectCache


def write_idx_images(path, images):
    """uint8 [n, h, w] as a gzip IDX3 file (magic 0x00000803, big-endian dims)."""
    n, h, w = images.shape
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 3]))
        for d in (n, h, w):
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())


def scene_templates(cache):
    images = [np.asarray(cache.get_natural_scene_template(i)) for i in range(SCENES)]
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        sys.exit(f"allen_to_npy: the scene templates differ in size: {sorted(shapes)}")
    return np.stack([np.clip(im, 0, 255).astype(np.uint8) for im in images])


def session_responses(session, start, stop):
    """{area: (unit ids, [SCENES x units] mean counts)} of one session."""
    table = session.stimulus_presentations
    scenes = table[(table["stimulus_name"] == "natural_scenes") & (table["frame"] >= 0)]
    units = session.units
    units = units[units["ecephys_structure_acronym"].isin(AREAS)]
    if scenes.empty or units.empty:
        return {}
    counts = session.presentationwise_spike_counts(
        bin_edges=np.array([start, stop]),
        stimulus_presentation_ids=scenes.index.values,
        unit_ids=units.index.values)
    # counts: [presentations, 1 bin, units], presentations in the order asked
    per_presentation = np.asarray(counts.values)[:, 0, :].astype(np.float64)
    frames = scenes["frame"].astype(int).values
    mean = np.zeros((SCENES, per_presentation.shape[1]))
    for f in range(SCENES):
        shown = frames == f
        if not shown.any():
            return {}  # a session missing a scene cannot fill its rows
        mean[f] = per_presentation[shown].mean(axis=0)
    out = {}
    unit_ids = np.asarray(counts.coords["unit_id"].values)
    areas = units.loc[unit_ids, "ecephys_structure_acronym"].values
    for area in AREAS:
        cols = (areas == area) & (mean.std(axis=0) > 0)
        if cols.any():
            out[area] = (unit_ids[cols], mean[:, cols])
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, help="EcephysProjectCache manifest path")
    p.add_argument("--out", required=True)
    p.add_argument("--max-sessions", type=int, default=0, help="0: all (default)")
    p.add_argument("--start", type=float, default=0.05, help="window start after onset, s")
    p.add_argument("--stop", type=float, default=0.25, help="window end after onset, s")
    args = p.parse_args(argv)
    if not 0 <= args.start < args.stop:
        p.error("need 0 <= --start < --stop")
    EcephysProjectCache = need_allensdk()
    cache = EcephysProjectCache.from_warehouse(manifest=args.manifest)
    sessions = cache.get_session_table()
    ids = sorted(sessions[sessions["session_type"] == "brain_observatory_1.1"].index)
    if args.max_sessions:
        ids = ids[:args.max_sessions]
    os.makedirs(args.out, exist_ok=True)
    write_idx_images(os.path.join(args.out, "natural_scenes.idx.gz"), scene_templates(cache))
    pooled = {a: [] for a in AREAS}
    listing = []
    for sid in ids:
        print(f"session {sid}", flush=True)
        for area, (unit_ids, m) in session_responses(cache.get_session_data(sid), args.start,
                                                     args.stop).items():
            pooled[area].append(m)
            listing += [(sid, int(u), area) for u in unit_ids]
    counts = {}
    for area in AREAS:
        if not pooled[area]:
            sys.exit(f"allen_to_npy: no units of {area} in the sessions used")
        m = np.ascontiguousarray(np.concatenate(pooled[area], axis=1), dtype=np.float32)
        np.save(os.path.join(args.out, area + ".npy"), m)
        counts[area] = int(m.shape[1])
        print(f"{area}: {m.shape[0]} scenes x {m.shape[1]} units")
    with open(os.path.join(args.out, "units.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["session", "unit_id", "area"])
        w.writerows(listing)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(dict(sessions=[int(s) for s in ids], units=counts,
                       window_seconds=[args.start, args.stop], scenes=SCENES), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
