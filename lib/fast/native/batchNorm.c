// Batch normalization over the leading axes of a [rows, channels] float32 tensor (NHWC activations: rows = N*H*W),
// per channel, for the wasm backend (lib/fast/nativeBatchNorm.ts): training forward (batch statistics), its exact
// gradient (through the statistics), and inference with given statistics. On the wasm backend these take ~15
// activation-sized ops per BatchNorm layer and step; here two or three passes over the data.
//
// Same mathematics as tfjs's moments + batchNorm (biased variance, 1/sqrt(var + eps)); other rounding: the statistics
// are accumulated in double, row by row, and the per-element arithmetic is single precision in a fixed order. Plain C
// without -ffast-math or FMA contraction (scripts/native-conv.js compiles with -ffp-contract=off), so every x86-64
// computes the same bits.
#include <math.h>
#include <stdlib.h>

// Scratch for per-channel accumulators; NULL when out of memory.
static double *scratch(int channels, int per) { return (double *)calloc((size_t)channels * per, sizeof(double)); }

// Channel c's factor a = scale / sqrt(var + eps) (f = 1 / sqrt(var + eps)) and shift b = offset; NULL: 1 and 0.
static void set_affine(int c, double f, const float *scale, const float *offset, float *a, float *b) {
  a[c] = (float)(scale ? scale[c] * f : f);
  b[c] = offset ? offset[c] : 0.0f;
}

// y = (x - mean) * a + b, per channel.
static void apply_affine(int rows, int channels, const float *x, const float *mean, const float *a, const float *b, float *y) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * channels;
    float *yr = y + (size_t)r * channels;
    for (int c = 0; c < channels; c++) yr[c] = (xr[c] - mean[c]) * a[c] + b[c];
  }
}

// y = (x - mean) * (scale / sqrt(var + eps)) + offset with the batch's mean and (biased) variance, which are written
// to mean and variance. scale and offset may be NULL (1 and 0). Returns 0, or -1 when out of memory.
int density_bn_forward(int rows, int channels, const float *x, const float *scale, const float *offset, float epsilon, float *y,
                       float *mean, float *variance) {
  double *acc = scratch(channels, 3);
  if (!acc) return -1;
  double *s = acc, *m = acc + channels;
  float *a = (float *)(acc + 2 * (size_t)channels), *b = a + channels;  // per-channel factor and offset
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * channels;
    for (int c = 0; c < channels; c++) s[c] += xr[c];
  }
  for (int c = 0; c < channels; c++) {
    m[c] = s[c] / rows;
    s[c] = 0;
  }
  // Two passes (the deviations from the mean), as tfjs's moments: no cancellation when the mean is large.
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * channels;
    for (int c = 0; c < channels; c++) {
      double d = xr[c] - m[c];
      s[c] += d * d;
    }
  }
  for (int c = 0; c < channels; c++) {
    double v = s[c] / rows;
    mean[c] = (float)m[c];
    variance[c] = (float)v;
    set_affine(c, 1.0 / sqrt(v + epsilon), scale, offset, a, b);
  }
  apply_affine(rows, channels, x, mean, a, b, y);
  free(acc);
  return 0;
}

// The gradient of density_bn_forward's y with respect to x, scale and offset (the statistics depend on x), given dy
// and the mean and variance the forward pass wrote:
//   dx = k (dy - sum(dy)/rows - xhat sum(dy xhat)/rows), k = scale / sqrt(var + eps), xhat = (x - mean) / sqrt(var + eps)
//   dscale = sum(dy xhat), doffset = sum(dy).
// scale may be NULL (1). Returns 0, or -1 when out of memory.
int density_bn_backward(int rows, int channels, const float *x, const float *dy, const float *mean, const float *variance,
                        const float *scale, float epsilon, float *dx, float *dscale, float *doffset) {
  double *acc = scratch(channels, 2);
  if (!acc) return -1;
  double *sdy = acc, *sdyx = acc + channels;  // sum(dy), sum(dy (x - mean))
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * channels, *dr = dy + (size_t)r * channels;
    for (int c = 0; c < channels; c++) {
      sdy[c] += dr[c];
      sdyx[c] += (double)dr[c] * (xr[c] - mean[c]);
    }
  }
  // dx = ka dy + kb (x - mean) + kc, per channel.
  float *coef = (float *)malloc((size_t)channels * 3 * sizeof(float));
  if (!coef) {
    free(acc);
    return -1;
  }
  float *ka = coef, *kb = coef + channels, *kc = coef + 2 * (size_t)channels;
  for (int c = 0; c < channels; c++) {
    double f = 1.0 / sqrt((double)variance[c] + epsilon);
    double k = (scale ? scale[c] : 1.0) * f;
    dscale[c] = (float)(sdyx[c] * f);
    doffset[c] = (float)sdy[c];
    ka[c] = (float)k;
    kb[c] = (float)(-k * f * f * sdyx[c] / rows);
    kc[c] = (float)(-k * sdy[c] / rows);
  }
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * channels, *dr = dy + (size_t)r * channels;
    float *out = dx + (size_t)r * channels;
    for (int c = 0; c < channels; c++) out[c] = ka[c] * dr[c] + kb[c] * (xr[c] - mean[c]) + kc[c];
  }
  free(coef);
  free(acc);
  return 0;
}

// Inference: y = (x - mean) * (scale / sqrt(var + eps)) + offset with given per-channel statistics; scale and offset
// may be NULL. Returns 0, or -1 when out of memory.
int density_bn_inference(int rows, int channels, const float *x, const float *mean, const float *variance, const float *scale,
                         const float *offset, float epsilon, float *y) {
  float *coef = (float *)malloc((size_t)channels * 2 * sizeof(float));
  if (!coef) return -1;
  float *a = coef, *b = coef + channels;
  for (int c = 0; c < channels; c++) set_affine(c, 1.0 / sqrt((double)variance[c] + epsilon), scale, offset, a, b);
  apply_affine(rows, channels, x, mean, a, b, y);
  free(coef);
  return 0;
}
