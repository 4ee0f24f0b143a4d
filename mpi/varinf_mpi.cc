// varinf_mpi.node: the few MPI calls a data-parallel job needs, over MPI's C API, for
// ts/distributed/mpi.ts. Every call is blocking and works in place on a typed array's memory
// (no copies); errors come back as JS exceptions with MPI's own error string (the communicator's
// error handler is MPI_ERRORS_RETURN, so a failed call never aborts the process by itself).
// The C API only: the deprecated MPI C++ bindings would need libmpi_cxx at load time.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <dlfcn.h>
#include <mpi.h>
#include <napi.h>

#include <string>

namespace {

void Check(Napi::Env env, int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Napi::Error::New(env, std::string(what) + ": " + std::string(msg, len));
}

struct Buf {
  void* data;
  int count;
  MPI_Datatype type;
};

Buf BufOf(const Napi::Value& v, const char* what, bool floatOnly) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string(what) + ": expected a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  MPI_Datatype t;
  switch (ta.TypedArrayType()) {
    case napi_float64_array: t = MPI_DOUBLE; break;
    case napi_float32_array: t = MPI_FLOAT; break;
    case napi_int32_array:
      if (floatOnly) throw Napi::TypeError::New(env, std::string(what) + ": expected a Float32Array or Float64Array");
      t = MPI_INT;
      break;
    case napi_uint8_array:
      if (floatOnly) throw Napi::TypeError::New(env, std::string(what) + ": expected a Float32Array or Float64Array");
      t = MPI_UNSIGNED_CHAR;
      break;
    default: throw Napi::TypeError::New(env, std::string(what) + ": unsupported typed array type");
  }
  size_t n = ta.ElementLength();
  if (n > 0x7fffffff) throw Napi::RangeError::New(env, std::string(what) + ": more than 2^31-1 elements");
  uint8_t* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return {base, static_cast<int>(n), t};
}

// init(): MPI_Init_thread (funneled: only the main JS thread calls MPI); returns {rank, size, threadLevel}.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int inited = 0, fin = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&fin);
  if (fin) throw Napi::Error::New(env, "MPI_Init: MPI was already finalized in this process (a closed MPI communicator cannot be reopened)");
  int provided = 0;
  if (!inited) {
    // Open MPI's plugins resolve libmpi's symbols globally; this addon was opened RTLD_LOCAL by Node.
    dlopen(VARINF_MPI_LIBRARY, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    Check(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  } else {
    MPI_Query_thread(&provided);
  }
  int rank = 0, size = 0;
  Check(env, MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  Check(env, MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", rank);
  o.Set("size", size);
  o.Set("threadLevel", provided);
  return o;
}

// allReduce(buf, op): in place; op 0 sum, 1 max, 2 min.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Buf b = BufOf(info[0], "MPI_Allreduce", false);
  int op = info[1].As<Napi::Number>().Int32Value();
  MPI_Op o = op == 1 ? MPI_MAX : op == 2 ? MPI_MIN : MPI_SUM;
  Check(info.Env(), MPI_Allreduce(MPI_IN_PLACE, b.data, b.count, b.type, o, MPI_COMM_WORLD), "MPI_Allreduce");
  return info.Env().Undefined();
}

// broadcast(buf, root): in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Buf b = BufOf(info[0], "MPI_Bcast", false);
  int root = info[1].As<Napi::Number>().Int32Value();
  Check(info.Env(), MPI_Bcast(b.data, b.count, b.type, root, MPI_COMM_WORLD), "MPI_Bcast");
  return info.Env().Undefined();
}

// allGather(send, recv): recv holds size × send's length elements of the same type.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Buf s = BufOf(info[0], "MPI_Allgather", false);
  Buf r = BufOf(info[1], "MPI_Allgather", false);
  Check(info.Env(), MPI_Allgather(s.data, s.count, s.type, r.data, s.count, r.type, MPI_COMM_WORLD), "MPI_Allgather");
  return info.Env().Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Check(info.Env(), MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  return info.Env().Undefined();
}

// abort(code): ends every rank of the job (mpirun reports it); does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info[0].As<Napi::Number>().Int32Value();
  MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  int inited = 0, fin = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&fin);
  if (inited && !fin) Check(info.Env(), MPI_Finalize(), "MPI_Finalize");
  return info.Env().Undefined();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(v, &len);
  return Napi::String::New(info.Env(), std::string(v, len));
}

Napi::Object Init_(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("allReduce", Napi::Function::New(env, AllReduce));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("allGather", Napi::Function::New(env, AllGather));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(varinf_mpi, Init_)
