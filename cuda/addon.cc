// The node-addon-api binding of the CUDA backend: device info, a pooled allocator, one stream,
// host<->device copies (synchronous and as a Promise) and one thin function per kernel entry of
// kernels.h. Device buffers are JS externals that free themselves when collected (if the engine
// did not free them first) and report their bytes to V8 as external memory.
#include <cuda_runtime.h>
#include <napi.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace vi {

// ---- stream and errors ----
static cudaStream_t gStream = nullptr;

cudaStream_t stream() {
  if (gStream == nullptr) {
    cudaError_t e = cudaStreamCreateWithFlags(&gStream, cudaStreamNonBlocking);
    if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: cannot create a stream: ") + cudaGetErrorString(e));
  }
  return gStream;
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda ") + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

void checkLaunch(const char* kernel) { check(cudaGetLastError(), kernel); }

// ---- pooled allocator ----
// Free lists by size class. Reuse needs no event: every use of a block is queued on the one
// stream, so work on a freed block is ordered before work on its next owner.
class Pool {
 public:
  static size_t classOf(size_t bytes) {
    if (bytes <= 256) return 256;
    if (bytes < (1u << 20)) {
      size_t c = 512;
      while (c < bytes) c <<= 1;
      return c;
    }
    const size_t mib = 1u << 20;
    return (bytes + mib - 1) / mib * mib;
  }

  void* get(size_t bytes, size_t& cls) {
    std::lock_guard<std::mutex> lock(mu_);
    cls = classOf(bytes);
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= cls;
      inUse_ += cls;
      return p;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, cls);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      trimLocked();
      e = cudaMalloc(&p, cls);
    }
    if (e != cudaSuccess && e != cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw std::runtime_error("cuda alloc of " + std::to_string(bytes) + " bytes: " + cudaGetErrorName(e) + " (" +
                               cudaGetErrorString(e) + ")");
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t freeB = 0, total = 0;
      cudaMemGetInfo(&freeB, &total);
      throw std::runtime_error("cuda: out of memory: asked for " + std::to_string(bytes) + " bytes (" + std::to_string(cls) +
                               " with pooling), " + std::to_string(freeB) + " bytes free of " + std::to_string(total) +
                               "; " + std::to_string(inUse_) + " bytes held by live tensors (" + cudaGetErrorString(e) + ")");
    }
    inUse_ += cls;
    return p;
  }

  void put(void* p, size_t cls) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    free_[cls].push_back(p);
    inUse_ -= cls;
    cached_ += cls;
  }

  void trim() {
    std::lock_guard<std::mutex> lock(mu_);
    trimLocked();
  }

  size_t inUse() const { return inUse_; }
  size_t cached() const { return cached_; }

 private:
  void trimLocked() {
    for (auto& kv : free_)
      for (void* p : kv.second) cudaFree(p);
    free_.clear();
    cached_ = 0;
  }
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t inUse_ = 0, cached_ = 0;
};

static Pool gPool;

// While a step is captured as a CUDA graph (graphBegin .. graphEnd), memory taken from the pool
// belongs to the capture and then to the graph: its address is frozen into the captured launches,
// so it must not go back to the pool while the graph can run (a replay would overwrite the data
// of the block's next owner). The graph returns it to the pool when it is freed.
struct Capture {
  std::vector<std::pair<void*, size_t>> blocks;
};
static Capture* gCapture = nullptr;

static void* poolGet(size_t bytes, size_t& cls) {
  void* p = gPool.get(bytes, cls);
  if (gCapture != nullptr && p != nullptr) gCapture->blocks.emplace_back(p, cls);
  return p;
}

void* scratch(size_t bytes) {
  size_t cls;
  return poolGet(bytes, cls);
}
void releaseScratch(void* p, size_t bytes) {
  if (gCapture == nullptr) gPool.put(p, Pool::classOf(bytes));
}

// ---- device buffers as JS externals ----
struct DevBuf {
  void* ptr = nullptr;
  size_t cls = 0;
  bool live = true;
  // Allocated during a graph capture: the capture's block, not returned to the pool by a free.
  bool captured = false;
};

static void releaseBuf(Napi::Env env, DevBuf* b) {
  if (!b->live) return;
  b->live = false;
  if (!b->captured) gPool.put(b->ptr, b->cls);
  if (b->cls > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -(int64_t)b->cls);
}

static Napi::External<DevBuf> makeBuf(Napi::Env env, size_t bytes) {
  DevBuf* b = new DevBuf();
  if (bytes > 0) {
    try {
      b->ptr = poolGet(bytes, b->cls);
      b->captured = gCapture != nullptr;
    } catch (...) {
      delete b;
      throw;
    }
    Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)b->cls);
  }
  return Napi::External<DevBuf>::New(env, b, [](Napi::Env e, DevBuf* p) {
    releaseBuf(e, p);
    delete p;
  });
}

static DevBuf* bufOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw std::runtime_error(std::string("cuda ") + what + ": expected a device buffer handle");
  DevBuf* b = v.As<Napi::External<DevBuf>>().Data();
  if (!b->live) throw std::runtime_error(std::string("cuda ") + what + ": device buffer used after free");
  return b;
}

static void* ptr(const Napi::CallbackInfo& info, size_t i) { return bufOf(info[i], "kernel argument")->ptr; }
static int64_t i64(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
static int i32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
static double f64(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
static bool flag(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }
static std::string str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }
static Dims dims(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  Dims d(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) d[k] = a.Get(k).As<Napi::Number>().Int64Value();
  return d;
}

// A Philox key at argument i: its two words (numbers), or a device buffer and the index of a key
// in it (two words each), read by the kernel when it runs (a step replayed as a CUDA graph).
static Key keyArg(const Napi::CallbackInfo& info, size_t i) {
  Key k;
  if (info[i].IsExternal()) k.at = static_cast<const uint32_t*>(bufOf(info[i], "key")->ptr) + 2 * i64(info, i + 1);
  else {
    k.k0 = (uint32_t)i64(info, i);
    k.k1 = (uint32_t)i64(info, i + 1);
  }
  return k;
}

static Napi::Value typedArray(Napi::Env env, int dt, Napi::ArrayBuffer ab, size_t n) {
  if (dt == F64) return Napi::Float64Array::New(env, n, ab, 0);
  if (dt == F32) return Napi::Float32Array::New(env, n, ab, 0);
  if (dt == BF16) return Napi::Uint16Array::New(env, n, ab, 0);
  return Napi::Int32Array::New(env, n, ab, 0);
}

// Turns C++ exceptions (CUDA errors named by kernel) into JS exceptions.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
static Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// ---- memory and copies ----
static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    o.Set("count", 0);
    o.Set("error", std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e));
    cudaGetLastError();
    return o;
  }
  o.Set("count", count);
  if (count > 0) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) {
      o.Set("name", std::string(p.name));
      o.Set("major", p.major);
      o.Set("minor", p.minor);
      o.Set("multiprocessors", p.multiProcessorCount);
      o.Set("totalMemory", (double)p.totalGlobalMem);
    }
    int rt = 0, drv = 0;
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    o.Set("runtimeVersion", rt);
    o.Set("driverVersion", drv);
  }
  return o;
}

static Napi::Value Alloc(const Napi::CallbackInfo& info) { return makeBuf(info.Env(), (size_t)i64(info, 0)); }

static Napi::Value Free(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) releaseBuf(info.Env(), info[0].As<Napi::External<DevBuf>>().Data());
  return info.Env().Undefined();
}

// Small uploads are staged in a pinned ring. A copy from pageable memory may wait for the stream to
// drain (CUDA's API synchronization rules), and eager ops upload small tensors all the time: every
// JS number an op takes is a 0-d upload, so each would stall the queue of launched kernels. A copy
// from pinned memory is queued like a kernel. The ring has SEGMENTS parts; an event recorded when
// a part is left guards it, and writing into it again first waits for that event (by then long
// passed: the copies from a whole turn of the ring ago).
class UploadRing {
 public:
  static constexpr size_t SEGMENT = 2u << 20, SEGMENTS = 8, MAX = 1u << 20;

  // Copies `bytes` (at most MAX) from `src` into pinned memory and queues the copy to `dst`.
  void copy(void* dst, const void* src, size_t bytes) {
    if (base_ == nullptr) {
      check(cudaMallocHost(&base_, SEGMENT * SEGMENTS), "upload (pinned staging ring)");
      for (auto& e : done_) check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "upload (event)");
    }
    if (offset_ + bytes > SEGMENT) {
      check(cudaEventRecord(done_[seg_], stream()), "upload (event)");
      recorded_[seg_] = true;
      seg_ = (seg_ + 1) % SEGMENTS;
      if (recorded_[seg_]) check(cudaEventSynchronize(done_[seg_]), "upload (a queued kernel failed)");
      offset_ = 0;
    }
    char* at = static_cast<char*>(base_) + seg_ * SEGMENT + offset_;
    std::memcpy(at, src, bytes);
    check(cudaMemcpyAsync(dst, at, bytes, cudaMemcpyHostToDevice, stream()), "upload");
    offset_ += (bytes + 255) & ~size_t(255);
  }

 private:
  void* base_ = nullptr;
  size_t seg_ = 0, offset_ = 0;
  cudaEvent_t done_[SEGMENTS] = {};
  bool recorded_[SEGMENTS] = {};
};
static UploadRing gRing;

static Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  const size_t bytes = ta.ByteLength();
  Napi::External<DevBuf> h = makeBuf(info.Env(), bytes);
  if (bytes > 0) {
    const char* src = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (bytes <= UploadRing::MAX) gRing.copy(h.Data()->ptr, src, bytes);
    // From pageable memory this returns once the data is staged, so the caller may reuse it.
    else check(cudaMemcpyAsync(h.Data()->ptr, src, bytes, cudaMemcpyHostToDevice, stream()), "upload");
  }
  return h;
}

static Napi::Value ReadSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DevBuf* b = bufOf(info[0], "readSync");
  const int dt = i32(info, 1);
  const size_t n = (size_t)i64(info, 2);
  const size_t bytes = n * dtypeBytes(dt);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) {
    check(cudaMemcpyAsync(ab.Data(), b->ptr, bytes, cudaMemcpyDeviceToHost, stream()), "readSync");
    check(cudaStreamSynchronize(stream()), "readSync (a queued kernel failed)");
  }
  return typedArray(env, dt, ab, n);
}

// Queues the copy into pinned memory now (so later frees cannot race it) and waits off-thread.
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, int dt, size_t n, void* host, cudaEvent_t ev)
      : Napi::AsyncWorker(env), def_(Napi::Promise::Deferred::New(env)), dt_(dt), n_(n), host_(host), ev_(ev) {}
  ~ReadWorker() override {
    if (ev_) cudaEventDestroy(ev_);
    if (host_) cudaFreeHost(host_);
  }
  Napi::Promise promise() { return def_.Promise(); }
  void Execute() override {
    if (ev_) {
      cudaError_t e = cudaEventSynchronize(ev_);
      if (e != cudaSuccess) SetError(std::string("cuda read: ") + cudaGetErrorName(e) + " (a queued kernel failed)");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    const size_t bytes = n_ * dtypeBytes(dt_);
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) std::memcpy(ab.Data(), host_, bytes);
    def_.Resolve(typedArray(env, dt_, ab, n_));
  }
  void OnError(const Napi::Error& e) override { def_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred def_;
  int dt_;
  size_t n_;
  void* host_;
  cudaEvent_t ev_;
};

static Napi::Value Read(const Napi::CallbackInfo& info) {
  DevBuf* b = bufOf(info[0], "read");
  const int dt = i32(info, 1);
  const size_t n = (size_t)i64(info, 2);
  const size_t bytes = n * dtypeBytes(dt);
  void* host = nullptr;
  cudaEvent_t ev = nullptr;
  if (bytes > 0) {
    check(cudaMallocHost(&host, bytes), "read (pinned staging buffer)");
    check(cudaMemcpyAsync(host, b->ptr, bytes, cudaMemcpyDeviceToHost, stream()), "read");
    check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "read (event)");
    check(cudaEventRecord(ev, stream()), "read (event)");
  }
  ReadWorker* w = new ReadWorker(info.Env(), dt, n, host, ev);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

static Napi::Value Sync(const Napi::CallbackInfo& info) {
  check(cudaStreamSynchronize(stream()), "sync (a queued kernel failed)");
  return info.Env().Undefined();
}

static Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("bytesInUse", (double)gPool.inUse());
  o.Set("bytesCached", (double)gPool.cached());
  return o;
}

static Napi::Value Trim(const Napi::CallbackInfo& info) {
  check(cudaStreamSynchronize(stream()), "trim");
  gPool.trim();
  return info.Env().Undefined();
}

// Copies a host typed array into an existing device buffer, queued on the stream (small ones
// through the pinned ring): a replayed step's fresh keys.
static Napi::Value Write(const Napi::CallbackInfo& info) {
  DevBuf* b = bufOf(info[0], "write");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  const size_t bytes = ta.ByteLength();
  if (bytes > b->cls) throw std::runtime_error("cuda write: " + std::to_string(bytes) + " bytes into a buffer of " + std::to_string(b->cls));
  const char* src = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (bytes == 0) return info.Env().Undefined();
  if (bytes <= UploadRing::MAX) gRing.copy(b->ptr, src, bytes);
  else check(cudaMemcpyAsync(b->ptr, src, bytes, cudaMemcpyHostToDevice, stream()), "write");
  return info.Env().Undefined();
}

// ---- CUDA graphs: a compiled step's launches captured once, replayed with one call ----
struct GraphExec {
  cudaGraphExec_t exec = nullptr;
  std::vector<std::pair<void*, size_t>> blocks;
};

static void releaseBlocks(std::vector<std::pair<void*, size_t>>& blocks) {
  for (auto& pc : blocks) gPool.put(pc.first, pc.second);
  blocks.clear();
}

// Relaxed mode: the pool may call cudaMalloc while capturing. A call that synchronizes the stream
// (cholesky's status read) invalidates the capture and throws; graphAbort then cleans up.
static Napi::Value GraphBegin(const Napi::CallbackInfo& info) {
  if (gCapture != nullptr) throw std::runtime_error("cuda graphBegin: a capture is already in progress");
  check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed), "graphBegin");
  gCapture = new Capture();
  return info.Env().Undefined();
}

static Napi::Value GraphAbort(const Napi::CallbackInfo& info) {
  if (gCapture == nullptr) return info.Env().Undefined();
  cudaGraph_t g = nullptr;
  cudaStreamEndCapture(stream(), &g);
  if (g != nullptr) cudaGraphDestroy(g);
  cudaGetLastError();
  // Nothing captured ran, so the blocks hold no pending work.
  releaseBlocks(gCapture->blocks);
  delete gCapture;
  gCapture = nullptr;
  return info.Env().Undefined();
}

static Napi::Value GraphEnd(const Napi::CallbackInfo& info) {
  if (gCapture == nullptr) throw std::runtime_error("cuda graphEnd: no capture in progress");
  std::unique_ptr<Capture> cap(gCapture);
  gCapture = nullptr;
  cudaGraph_t g = nullptr;
  cudaError_t e = cudaStreamEndCapture(stream(), &g);
  cudaGraphExec_t exec = nullptr;
  if (e == cudaSuccess && g != nullptr) e = cudaGraphInstantiate(&exec, g, 0);
  if (g != nullptr) cudaGraphDestroy(g);
  if (e != cudaSuccess) {
    cudaGetLastError();
    releaseBlocks(cap->blocks);
    throw std::runtime_error(std::string("cuda graph capture failed: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
  }
  GraphExec* x = new GraphExec();
  x->exec = exec;
  x->blocks = std::move(cap->blocks);
  return Napi::External<GraphExec>::New(info.Env(), x, [](Napi::Env, GraphExec* p) {
    // A graph still running is freed when it finishes; its blocks are reused only by later work.
    if (p->exec != nullptr) cudaGraphExecDestroy(p->exec);
    releaseBlocks(p->blocks);
    delete p;
  });
}

static GraphExec* graphOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw std::runtime_error(std::string("cuda ") + what + ": expected a graph handle");
  GraphExec* x = v.As<Napi::External<GraphExec>>().Data();
  if (x->exec == nullptr) throw std::runtime_error(std::string("cuda ") + what + ": graph used after free");
  return x;
}

static Napi::Value GraphLaunch(const Napi::CallbackInfo& info) {
  check(cudaGraphLaunch(graphOf(info[0], "graphLaunch")->exec, stream()), "graphLaunch");
  return info.Env().Undefined();
}

static Napi::Value GraphFree(const Napi::CallbackInfo& info) {
  GraphExec* x = graphOf(info[0], "graphFree");
  cudaGraphExecDestroy(x->exec);
  x->exec = nullptr;
  releaseBlocks(x->blocks);
  return info.Env().Undefined();
}

static Napi::Value SetMatmulPrecision(const Napi::CallbackInfo& info) {
  setMatmulPrecision(i32(info, 0));
  return info.Env().Undefined();
}

// ---- kernels: argument order mirrors kernels.h ----
#define U info.Env().Undefined()
static Napi::Value Unary(const Napi::CallbackInfo& info) {
  unary(str(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), i64(info, 4));
  return U;
}
static Napi::Value Binary(const Napi::CallbackInfo& info) {
  binary(str(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), dims(info, 5), dims(info, 6), dims(info, 7));
  return U;
}
static Napi::Value Compare(const Napi::CallbackInfo& info) {
  compare(str(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), dims(info, 5), dims(info, 6), dims(info, 7));
  return U;
}
static Napi::Value Where(const Napi::CallbackInfo& info) {
  where(i32(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), ptr(info, 5), dims(info, 6), dims(info, 7),
        dims(info, 8), dims(info, 9));
  return U;
}
static Napi::Value Clamp(const Napi::CallbackInfo& info) {
  clamp(i32(info, 0), ptr(info, 1), ptr(info, 2), i64(info, 3), f64(info, 4), f64(info, 5));
  return U;
}
static Napi::Value Cast(const Napi::CallbackInfo& info) {
  cast(i32(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), i64(info, 4));
  return U;
}
static Napi::Value Reduce(const Napi::CallbackInfo& info) {
  reduceRows(str(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), i64(info, 4), i64(info, 5));
  return U;
}
static Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  argReduceRows(flag(info, 0), i32(info, 1), ptr(info, 2), (int32_t*)ptr(info, 3), i64(info, 4), i64(info, 5));
  return U;
}
static Napi::Value Softmax(const Napi::CallbackInfo& info) {
  softmax(flag(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), i64(info, 4), i64(info, 5), i64(info, 6));
  return U;
}
static Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  cumsum(flag(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), i64(info, 4), i64(info, 5), i64(info, 6));
  return U;
}
static Napi::Value Matmul(const Napi::CallbackInfo& info) {
  matmul(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), dims(info, 4), dims(info, 5), dims(info, 6), i64(info, 7),
         i64(info, 8), i64(info, 9), flag(info, 10), flag(info, 11));
  return U;
}
static Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  stridedCopy(i32(info, 0), ptr(info, 1), ptr(info, 2), dims(info, 3), dims(info, 4), i64(info, 5));
  return U;
}
static Napi::Value Pad(const Napi::CallbackInfo& info) {
  pad(i32(info, 0), ptr(info, 1), ptr(info, 2), dims(info, 3), dims(info, 4), dims(info, 5), f64(info, 6));
  return U;
}
static Napi::Value Gather(const Napi::CallbackInfo& info) {
  gather(i32(info, 0), ptr(info, 1), (const int32_t*)ptr(info, 2), ptr(info, 3), i64(info, 4), i64(info, 5), i64(info, 6),
         i64(info, 7));
  return U;
}
static Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  scatterAdd(i32(info, 0), ptr(info, 1), (const int32_t*)ptr(info, 2), ptr(info, 3), i64(info, 4), i64(info, 5),
             i64(info, 6), i64(info, 7));
  return U;
}
static Napi::Value OneHot(const Napi::CallbackInfo& info) {
  oneHot(i32(info, 0), (const int32_t*)ptr(info, 1), ptr(info, 2), i64(info, 3), i64(info, 4));
  return U;
}
static Napi::Value DiagEmbed(const Napi::CallbackInfo& info) {
  diagEmbed(i32(info, 0), ptr(info, 1), ptr(info, 2), i64(info, 3), i64(info, 4));
  return U;
}
static Napi::Value Tril(const Napi::CallbackInfo& info) {
  tril(i32(info, 0), ptr(info, 1), ptr(info, 2), i64(info, 3), i64(info, 4), i64(info, 5), i64(info, 6));
  return U;
}
static Napi::Value Copy2d(const Napi::CallbackInfo& info) {
  copy2d(ptr(info, 0), ptr(info, 1), i64(info, 2), i64(info, 3), i64(info, 4), i64(info, 5));
  return U;
}
static Napi::Value Fill(const Napi::CallbackInfo& info) {
  fill(i32(info, 0), ptr(info, 1), i64(info, 2), f64(info, 3));
  return U;
}
static Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)cholesky(i32(info, 0), ptr(info, 1), ptr(info, 2), i64(info, 3), i64(info, 4)));
}
static Napi::Value TriangularZeroDiagonal(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)triangularZeroDiagonal(i32(info, 0), ptr(info, 1), i64(info, 2), i64(info, 3)));
}
static Napi::Value TriangularSolve(const Napi::CallbackInfo& info) {
  triangularSolve(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), dims(info, 4), dims(info, 5), dims(info, 6),
                  i64(info, 7), i64(info, 8), flag(info, 9), flag(info, 10));
  return U;
}
static Napi::Value SvgdPhi(const Napi::CallbackInfo& info) {
  svgdPhi(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), i64(info, 5), i64(info, 6), f64(info, 7));
  return U;
}
static Napi::Value Random(const Napi::CallbackInfo& info) {
  const std::string kind = str(info, 0);
  const Key key = keyArg(info, 1);
  const int dt = i32(info, 3);
  if (kind == "bits") randomBits(key, (int32_t*)ptr(info, 4), i64(info, 5));
  else if (kind == "uniform") randomUniform(key, dt, ptr(info, 4), i64(info, 5));
  else if (kind == "normal") randomNormal(key, dt, ptr(info, 4), i64(info, 5));
  else if (kind == "gamma") randomGamma(key, dt, ptr(info, 6), ptr(info, 4), i64(info, 5));
  else if (kind == "poisson") randomPoisson(key, dt, ptr(info, 6), ptr(info, 4), i64(info, 5));
  else if (kind == "vonMises") randomVonMises(key, dt, ptr(info, 6), ptr(info, 4), i64(info, 5));
  else throw std::runtime_error("cuda random: unknown kind '" + kind + "'");
  return U;
}
static Napi::Value NormalReparam(const Napi::CallbackInfo& info) {
  normalReparam(keyArg(info, 0), i32(info, 2), ptr(info, 3), ptr(info, 4), ptr(info, 5),
                ptr(info, 6), dims(info, 7), dims(info, 8), dims(info, 9));
  return U;
}
static Napi::Value MvnReparam(const Napi::CallbackInfo& info) {
  mvnReparam(keyArg(info, 0), i32(info, 2), ptr(info, 3), ptr(info, 4), ptr(info, 5),
             ptr(info, 6), dims(info, 7), dims(info, 8), dims(info, 9), i64(info, 10));
  return U;
}
static Napi::Value DiagNormalKL(const Napi::CallbackInfo& info) {
  diagNormalKL(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), dims(info, 4), dims(info, 5), dims(info, 6));
  return U;
}
static Napi::Value AffineFlow(const Napi::CallbackInfo& info) {
  const void* mask = info[5].IsNull() || info[5].IsUndefined() ? nullptr : ptr(info, 5);
  affineFlow(i32(info, 0), i32(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), mask, ptr(info, 6), ptr(info, 7),
             dims(info, 8), dims(info, 9), dims(info, 10), dims(info, 11), dims(info, 12), i64(info, 13), i64(info, 14));
  return U;
}
static Napi::Value RqSpline(const Napi::CallbackInfo& info) {
  rqSpline(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), ptr(info, 5), ptr(info, 6),
           dims(info, 7), i64(info, 8), f64(info, 9), flag(info, 10));
  return U;
}
static Napi::Value RqSplineGrad(const Napi::CallbackInfo& info) {
  rqSplineGrad(i32(info, 0), ptr(info, 1), ptr(info, 2), ptr(info, 3), ptr(info, 4), ptr(info, 5), ptr(info, 6),
               ptr(info, 7), ptr(info, 8), ptr(info, 9), ptr(info, 10), dims(info, 11), i64(info, 12), f64(info, 13),
               flag(info, 14));
  return U;
}
#undef U

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
#define EXPORT(name, fn) exports.Set(name, Napi::Function::New(env, guarded<fn>, name))
  EXPORT("info", Info);
  EXPORT("alloc", Alloc);
  EXPORT("free", Free);
  EXPORT("upload", Upload);
  EXPORT("readSync", ReadSync);
  EXPORT("read", Read);
  EXPORT("sync", Sync);
  EXPORT("memory", Memory);
  EXPORT("trim", Trim);
  EXPORT("setMatmulPrecision", SetMatmulPrecision);
  EXPORT("write", Write);
  EXPORT("graphBegin", GraphBegin);
  EXPORT("graphEnd", GraphEnd);
  EXPORT("graphAbort", GraphAbort);
  EXPORT("graphLaunch", GraphLaunch);
  EXPORT("graphFree", GraphFree);
  EXPORT("unary", Unary);
  EXPORT("binary", Binary);
  EXPORT("compare", Compare);
  EXPORT("where", Where);
  EXPORT("clamp", Clamp);
  EXPORT("cast", Cast);
  EXPORT("reduce", Reduce);
  EXPORT("argReduce", ArgReduce);
  EXPORT("softmax", Softmax);
  EXPORT("cumsum", Cumsum);
  EXPORT("matmul", Matmul);
  EXPORT("stridedCopy", StridedCopy);
  EXPORT("pad", Pad);
  EXPORT("gather", Gather);
  EXPORT("scatterAdd", ScatterAdd);
  EXPORT("oneHot", OneHot);
  EXPORT("diagEmbed", DiagEmbed);
  EXPORT("tril", Tril);
  EXPORT("copy2d", Copy2d);
  EXPORT("fill", Fill);
  EXPORT("cholesky", Cholesky);
  EXPORT("triangularSolve", TriangularSolve);
  EXPORT("triangularZeroDiagonal", TriangularZeroDiagonal);
  EXPORT("random", Random);
  EXPORT("svgdPhi", SvgdPhi);
  EXPORT("affineFlow", AffineFlow);
  EXPORT("normalReparam", NormalReparam);
  EXPORT("mvnReparam", MvnReparam);
  EXPORT("diagNormalKL", DiagNormalKL);
  EXPORT("rqSpline", RqSpline);
  EXPORT("rqSplineGrad", RqSplineGrad);
#undef EXPORT
  return exports;
}

}  // namespace vi

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return vi::Init(env, exports); }

NODE_API_MODULE(varinf_cuda, InitAll)
