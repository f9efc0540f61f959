// The C++ side of tests/consumer.sh: libsgad from C++11 through the plain C
// headers, with the handles held by std::unique_ptr. Runs a fresh SGAD
// generator (training mode, so batch norm uses the batch's statistics)
// twice on the same seeded latents and checks that the images are the same,
// in [0, 1], and not all equal. Prints "consumer-cpp: ok".
#include <sgad/sgad.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct CtxFree {
    void operator()(sgad_ctx *c) const { sgad_ctx_free(c); }
};
struct TrainerFree {
    void operator()(sgad_trainer *t) const { sgad_trainer_free(t); }
};
struct TensorFree {
    void operator()(sgad_tensor *t) const { sgad_tensor_free(t); }
};
typedef std::unique_ptr<sgad_tensor, TensorFree> Tensor;

// Turns a failed call into an exception carrying the context's message.
void check(sgad_ctx *ctx, sgad_status s, const char *call)
{
    if (s != SGAD_OK)
        throw std::runtime_error(std::string(call) + ": " + sgad_status_name(s) + ": " +
                                 sgad_ctx_last_error(ctx));
}

Tensor make_tensor(sgad_ctx *ctx, const std::vector<int64_t> &dims)
{
    sgad_tensor *t = nullptr;
    check(ctx, sgad_tensor_create(ctx, static_cast<int>(dims.size()), dims.data(), &t),
          "sgad_tensor_create");
    return Tensor(t);
}

std::vector<float> generate(sgad_ctx *ctx, sgad_net *generator, int latent)
{
    Tensor z = make_tensor(ctx, {1, 4, latent});
    Tensor images = make_tensor(ctx, {1, 4, 1, 28, 28});
    check(ctx, sgad_draw_latents(ctx, 42, z.get()), "sgad_draw_latents");
    check(ctx, sgad_net_forward(generator, z.get(), images.get()), "sgad_net_forward");
    const float *p = sgad_tensor_data(images.get());
    return std::vector<float>(p, p + sgad_tensor_numel(images.get()));
}

} // namespace

int main()
{
    try {
        std::printf("consumer-cpp: libsgad %s\n", sgad_version_string());
        sgad_ctx *raw_ctx = nullptr;
        if (sgad_ctx_create(&raw_ctx) != SGAD_OK)
            throw std::runtime_error("sgad_ctx_create failed");
        std::unique_ptr<sgad_ctx, CtxFree> ctx(raw_ctx);
        sgad_trainer *raw_t = nullptr;
        check(ctx.get(),
              sgad_trainer_create_preset(ctx.get(), SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 0, 0,
                                         SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &raw_t),
              "sgad_trainer_create_preset");
        std::unique_ptr<sgad_trainer, TrainerFree> trainer(raw_t);
        int latent = 0;
        check(ctx.get(), sgad_trainer_preset(trainer.get(), nullptr, nullptr, nullptr, &latent),
              "sgad_trainer_preset");
        sgad_net *generator = sgad_trainer_net(trainer.get(), 0);
        std::vector<float> a = generate(ctx.get(), generator, latent);
        std::vector<float> b = generate(ctx.get(), generator, latent);
        float lo = a[0], hi = a[0];
        for (float v : a) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (a != b || lo < 0.0f || hi > 1.0f || lo == hi) {
            std::fprintf(stderr, "consumer-cpp: samples %s, range [%g, %g]\n",
                         a == b ? "agree" : "differ", lo, hi);
            return 1;
        }
        std::printf("consumer-cpp: %zu pixels generated twice alike, range [%.3f, %.3f]\n",
                    a.size(), lo, hi);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "consumer-cpp: %s\n", e.what());
        return 1;
    }
    std::printf("consumer-cpp: ok\n");
    return 0;
}
