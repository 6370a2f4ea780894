// 2-D convolutions (forward, input gradient, filter gradient) through oneDNN for the wasm backend, in tfjs's layouts:
// activations NHWC, filters HWIO, float32, one thread. Each call names its shape; a primitive is built once per shape
// and kept. Loaded by lib/fast/nativeConv.ts (koffi); tfjs's wasm heap pointers are passed straight in, so nothing is
// copied except where oneDNN wants its own filter layout. Built by scripts/native-conv.js.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// FWD_BIAS: forward with a per-channel bias; FWD_BIAS_RELU and FWD_RELU add a ReLU (tfjs's FusedConv2D).
enum { FWD = 0, BWD_DATA = 1, BWD_WEIGHTS = 2, FWD_BIAS = 3, FWD_BIAS_RELU = 4, FWD_RELU = 5, KINDS = 6 };
#define SHAPE_LEN 15

typedef struct {
  int kind;
  int shape[SHAPE_LEN];
  dnnl_primitive_t prim;
  dnnl_primitive_desc_t pd;
  dnnl_memory_t src, wei, dst, bias;    // user memories (NHWC / HWIO / [co]), handles set per call
  dnnl_memory_t wei_prim;               // the primitive's filter layout when it differs from HWIO (else NULL)
  dnnl_primitive_t wei_reorder;         // HWIO -> primitive (fwd, bwd data) or primitive -> HWIO (bwd weights)
} entry_t;

// Shapes vary with the batch (a last partial batch, evaluation batches): when the table is full, one entry (in
// rotation) is dropped to make room.
#define MAX_ENTRIES 64
static entry_t entries[MAX_ENTRIES];
static int n_entries = 0, next_evicted = 0;
static dnnl_engine_t engine = NULL;
static dnnl_stream_t stream = NULL;
static char last_error[256] = "";

const char *density_dnnl_last_error(void) { return last_error; }

#define CHECK(call)                                                                   \
  do {                                                                                \
    dnnl_status_t s_ = (call);                                                        \
    if (s_ != dnnl_success) {                                                         \
      snprintf(last_error, sizeof last_error, "%s failed: status %d", #call, (int)s_); \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static int init(void) {
  if (engine) return 0;
  if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return -1;
  if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return -1;
  return 0;
}

// shape: n, h, w, ci, kh, kw, co, sh, sw, pad top, left, bottom, right, oh, ow
static entry_t *build(int kind, const int *s) {
  int n = s[0], h = s[1], w = s[2], ci = s[3], kh = s[4], kw = s[5], co = s[6], sh = s[7], sw = s[8];
  int pt = s[9], pl = s[10], pb = s[11], pr = s[12], oh = s[13], ow = s[14];
  if (n < 1 || h < 1 || w < 1 || ci < 1 || kh < 1 || kw < 1 || co < 1 || sh < 1 || sw < 1 || pt < 0 || pl < 0 || pb < 0 || pr < 0 ||
      oh != (h + pt + pb - kh) / sh + 1 || ow != (w + pl + pr - kw) / sw + 1) {
    snprintf(last_error, sizeof last_error, "inconsistent convolution shape (n %d, h %d, w %d, ci %d, k %dx%d, co %d, s %dx%d, pad %d %d %d %d, out %dx%d)",
             n, h, w, ci, kh, kw, co, sh, sw, pt, pl, pb, pr, oh, ow);
    return NULL;
  }
  int with_bias = kind == FWD_BIAS || kind == FWD_BIAS_RELU;
  int with_relu = kind == FWD_BIAS_RELU || kind == FWD_RELU;
  dnnl_dims_t src_dims = {n, ci, h, w}, wei_dims = {co, ci, kh, kw}, dst_dims = {n, co, oh, ow}, bias_dims = {co};
  dnnl_dims_t strides = {sh, sw}, pad_l = {pt, pl}, pad_r = {pb, pr};
  dnnl_memory_desc_t src_md, wei_user_md, wei_any_md, dst_md, bias_md;
  CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_a));
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nhwc));
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nhwc));
  CHECK(dnnl_memory_desc_init_by_tag(&wei_user_md, 4, wei_dims, dnnl_f32, dnnl_hwio));
  CHECK(dnnl_memory_desc_init_by_tag(&wei_any_md, 4, wei_dims, dnnl_f32, dnnl_format_tag_any));
  entry_t *e = &entries[n_entries];
  memset(e, 0, sizeof *e);
  e->kind = -1; // not findable until built
  memcpy(e->shape, s, sizeof e->shape);
  dnnl_convolution_desc_t fwd_desc;
  CHECK(dnnl_convolution_forward_desc_init(&fwd_desc, dnnl_forward_training, dnnl_convolution_direct, &src_md, &wei_any_md,
                                           with_bias ? &bias_md : NULL, &dst_md, strides, pad_l, pad_r));
  dnnl_primitive_attr_t attr = NULL;
  if (with_relu) {
    dnnl_post_ops_t ops;
    CHECK(dnnl_post_ops_create(&ops));
    CHECK(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_post_ops(attr, ops));
    dnnl_post_ops_destroy(ops);
  }
  dnnl_primitive_desc_t fwd_pd;
  CHECK(dnnl_primitive_desc_create(&fwd_pd, &fwd_desc, attr, engine, NULL));
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (kind != BWD_DATA && kind != BWD_WEIGHTS) {
    e->pd = fwd_pd;
  } else if (kind == BWD_DATA) {
    dnnl_convolution_desc_t d;
    CHECK(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src_md, &wei_any_md, &dst_md, strides, pad_l, pad_r));
    CHECK(dnnl_primitive_desc_create(&e->pd, &d, NULL, engine, fwd_pd));
    dnnl_primitive_desc_destroy(fwd_pd);
  } else {
    dnnl_convolution_desc_t d;
    CHECK(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src_md, &wei_any_md, NULL, &dst_md, strides, pad_l,
                                                      pad_r));
    CHECK(dnnl_primitive_desc_create(&e->pd, &d, NULL, engine, fwd_pd));
    dnnl_primitive_desc_destroy(fwd_pd);
  }
  CHECK(dnnl_primitive_create(&e->prim, e->pd));
  e->kind = kind;
  const dnnl_memory_desc_t *wei_prim_md =
      dnnl_primitive_desc_query_md(e->pd, kind == BWD_WEIGHTS ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
  CHECK(dnnl_memory_create(&e->src, &src_md, engine, DNNL_MEMORY_NONE));
  CHECK(dnnl_memory_create(&e->dst, &dst_md, engine, DNNL_MEMORY_NONE));
  CHECK(dnnl_memory_create(&e->wei, &wei_user_md, engine, DNNL_MEMORY_NONE));
  if (with_bias) CHECK(dnnl_memory_create(&e->bias, &bias_md, engine, DNNL_MEMORY_NONE));
  if (!dnnl_memory_desc_equal(wei_prim_md, &wei_user_md)) {
    CHECK(dnnl_memory_create(&e->wei_prim, wei_prim_md, engine, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    if (kind == BWD_WEIGHTS)
      CHECK(dnnl_reorder_primitive_desc_create(&rpd, wei_prim_md, engine, &wei_user_md, engine, NULL));
    else
      CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wei_user_md, engine, wei_prim_md, engine, NULL));
    CHECK(dnnl_primitive_create(&e->wei_reorder, rpd));
    dnnl_primitive_desc_destroy(rpd);
  }
  n_entries++;
  return e;
}

static void destroy(entry_t *e) {
  if (e->wei_reorder) dnnl_primitive_destroy(e->wei_reorder);
  if (e->wei_prim) dnnl_memory_destroy(e->wei_prim);
  if (e->bias) dnnl_memory_destroy(e->bias);
  if (e->src) dnnl_memory_destroy(e->src);
  if (e->wei) dnnl_memory_destroy(e->wei);
  if (e->dst) dnnl_memory_destroy(e->dst);
  if (e->prim) dnnl_primitive_destroy(e->prim);
  if (e->pd) dnnl_primitive_desc_destroy(e->pd);
  memset(e, 0, sizeof *e);
}

static entry_t *lookup(int kind, const int *s) {
  if (kind < 0 || kind >= KINDS) {
    snprintf(last_error, sizeof last_error, "unknown convolution kind %d", kind);
    return NULL;
  }
  for (int i = 0; i < n_entries; i++)
    if (entries[i].kind == kind && memcmp(entries[i].shape, s, sizeof entries[i].shape) == 0) return &entries[i];
  if (n_entries == MAX_ENTRIES) {
    // Drop one entry (in rotation), move the last one into its slot, and build in the freed last slot.
    destroy(&entries[next_evicted]);
    entries[next_evicted] = entries[MAX_ENTRIES - 1];
    next_evicted = (next_evicted + 1) % (MAX_ENTRIES - 1);
    n_entries--;
  }
  return build(kind, s);
}

static int reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  return dnnl_primitive_execute(r, stream, 2, args) == dnnl_success ? 0 : -1;
}

// FWD*: a = x, b = filter, bias (FWD_BIAS*), out = y.  BWD_DATA: a = dy, b = filter, out = dx.
// BWD_WEIGHTS: a = x, b = dy, out = dFilter. Returns 0, or -1 with density_dnnl_last_error() saying why.
int density_dnnl_conv(int kind, const int *shape, const float *a, const float *b, const float *bias, float *out) {
  int shp[SHAPE_LEN];
  memcpy(shp, shape, sizeof shp);
  if (init() != 0) {
    snprintf(last_error, sizeof last_error, "oneDNN CPU engine could not be created");
    return -1;
  }
  entry_t *e = lookup(kind, shp);
  if (!e) return -1;
  dnnl_memory_t wei_arg = e->wei_prim ? e->wei_prim : e->wei;
  dnnl_exec_arg_t args[4];
  int nargs = 3;
  if (kind != BWD_DATA && kind != BWD_WEIGHTS) {
    dnnl_memory_set_data_handle(e->src, (void *)a);
    dnnl_memory_set_data_handle(e->wei, (void *)b);
    dnnl_memory_set_data_handle(e->dst, out);
    if (e->wei_prim && reorder(e->wei_reorder, e->wei, e->wei_prim) != 0) goto fail;
    args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, e->src};
    args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, wei_arg};
    args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, e->dst};
    if (e->bias) {
      dnnl_memory_set_data_handle(e->bias, (void *)bias);
      args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bias};
    }
  } else if (kind == BWD_DATA) {
    dnnl_memory_set_data_handle(e->dst, (void *)a);
    dnnl_memory_set_data_handle(e->wei, (void *)b);
    dnnl_memory_set_data_handle(e->src, out);
    if (e->wei_prim && reorder(e->wei_reorder, e->wei, e->wei_prim) != 0) goto fail;
    args[0] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, e->dst};
    args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, wei_arg};
    args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, e->src};
  } else {
    dnnl_memory_set_data_handle(e->src, (void *)a);
    dnnl_memory_set_data_handle(e->dst, (void *)b);
    dnnl_memory_set_data_handle(e->wei, out);
    args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, e->src};
    args[1] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, e->dst};
    args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS, wei_arg};
  }
  if (dnnl_primitive_execute(e->prim, stream, nargs, args) != dnnl_success) goto fail;
  if (kind == BWD_WEIGHTS && e->wei_prim && reorder(e->wei_reorder, e->wei_prim, e->wei) != 0) goto fail;
  if (dnnl_stream_wait(stream) != dnnl_success) goto fail;
  return 0;
fail:
  snprintf(last_error, sizeof last_error, "oneDNN convolution (kind %d) failed to execute", kind);
  return -1;
}

// The implementation oneDNN chose for a shape (e.g. "jit:avx2"), for provenance and the bench header.
const char *density_dnnl_impl(int kind, const int *shape) {
  int shp[SHAPE_LEN];
  memcpy(shp, shape, sizeof shp);
  if (init() != 0) return "unavailable";
  entry_t *e = lookup(kind, shp);
  if (!e) return last_error;
  const char *s = NULL;
  dnnl_primitive_desc_query(e->pd, dnnl_query_impl_info_str, 0, &s);
  return s ? s : "unknown";
}

// oneDNN's version as major * 10000 + minor * 100 + patch.
int density_dnnl_version(void) {
  const dnnl_version_t *v = dnnl_version();
  return v->major * 10000 + v->minor * 100 + v->patch;
}
