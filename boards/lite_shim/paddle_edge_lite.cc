// A C interface to Paddle Lite's light API (MobileConfig + PaddlePredictor), so Python's ctypes can run a .nb model
// with Lite's own C++ library on a board that has no Lite Python wheel. Errors are caught and kept for pel_last_error;
// every call returns 0 (or a handle) on success. Tensor element types are Lite's PrecisionType codes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "paddle_api.h"

using paddle::lite_api::MobileConfig;
using paddle::lite_api::PaddlePredictor;
using paddle::lite_api::PrecisionType;
using paddle::lite_api::Tensor;

namespace {

thread_local std::string last_error;

struct Handle {
  std::shared_ptr<PaddlePredictor> predictor;
  std::vector<std::string> inputs, outputs;
  std::string version;
};

template <typename F>
int guarded(F body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception from Paddle Lite";
  }
  return -1;
}

size_t element_size(int dtype) {
  switch (static_cast<PrecisionType>(dtype)) {
    case PrecisionType::kFloat: case PrecisionType::kInt32: return 4;
    case PrecisionType::kInt64: return 8;
    default: throw std::runtime_error("tensor type " + std::to_string(dtype) + " is not float32, int32 or int64");
  }
}

void* host_data(const Tensor& tensor, int dtype) {
  switch (static_cast<PrecisionType>(dtype)) {
    case PrecisionType::kFloat: return tensor.mutable_data<float>();
    case PrecisionType::kInt32: return tensor.mutable_data<int32_t>();
    default: return tensor.mutable_data<int64_t>();
  }
}

const void* read_data(const Tensor& tensor, int dtype) {
  switch (static_cast<PrecisionType>(dtype)) {
    case PrecisionType::kFloat: return tensor.data<float>();
    case PrecisionType::kInt32: return tensor.data<int32_t>();
    default: return tensor.data<int64_t>();
  }
}

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

extern "C" {

const char* pel_last_error() { return last_error.c_str(); }

void* pel_open(const char* model_path, int threads) {
  Handle* handle = nullptr;
  if (guarded([&] {
        handle = new Handle();
        MobileConfig config;
        config.set_model_from_file(model_path);
        config.set_threads(threads);
        handle->predictor = paddle::lite_api::CreatePaddlePredictor<MobileConfig>(config);
        handle->inputs = handle->predictor->GetInputNames();
        handle->outputs = handle->predictor->GetOutputNames();
        handle->version = handle->predictor->GetVersion();
      }) != 0) {
    delete handle;
    return nullptr;
  }
  return handle;
}

void pel_close(void* h) { delete static_cast<Handle*>(h); }

const char* pel_version(void* h) { return static_cast<Handle*>(h)->version.c_str(); }

int pel_count(void* h, int outputs) {
  auto* handle = static_cast<Handle*>(h);
  return static_cast<int>((outputs ? handle->outputs : handle->inputs).size());
}

// The name of input (or output) i; nullptr if there is none.
const char* pel_name(void* h, int outputs, int i) {
  auto* handle = static_cast<Handle*>(h);
  const auto& names = outputs ? handle->outputs : handle->inputs;
  return i >= 0 && static_cast<size_t>(i) < names.size() ? names[i].c_str() : nullptr;
}

int pel_set_input(void* h, int i, int dtype, const void* data, const int64_t* shape, int ndim) {
  return guarded([&] {
    auto tensor = static_cast<Handle*>(h)->predictor->GetInput(i);
    std::vector<int64_t> dims(shape, shape + ndim);
    tensor->Resize(dims);
    std::memcpy(host_data(*tensor, dtype), data, element_size(dtype) * elements(dims));
  });
}

int pel_run(void* h) {
  return guarded([&] { static_cast<Handle*>(h)->predictor->Run(); });
}

// The output's type code and rank; its dimensions go to `shape` (room for `capacity` of them).
int pel_output_info(void* h, int i, int* dtype, int* ndim, int64_t* shape, int capacity) {
  return guarded([&] {
    auto tensor = static_cast<Handle*>(h)->predictor->GetOutput(i);
    std::vector<int64_t> dims = tensor->shape();
    *dtype = static_cast<int>(tensor->precision());
    *ndim = static_cast<int>(dims.size());
    if (*ndim > capacity) throw std::runtime_error("output rank " + std::to_string(*ndim) + " is above " + std::to_string(capacity));
    std::copy(dims.begin(), dims.end(), shape);
  });
}

int pel_output_copy(void* h, int i, void* dst, int64_t nbytes) {
  return guarded([&] {
    auto tensor = static_cast<Handle*>(h)->predictor->GetOutput(i);
    int dtype = static_cast<int>(tensor->precision());
    int64_t size = static_cast<int64_t>(element_size(dtype)) * elements(tensor->shape());
    if (size != nbytes) throw std::runtime_error("output " + std::to_string(i) + " has " + std::to_string(size) + " bytes, not " + std::to_string(nbytes));
    std::memcpy(dst, read_data(*tensor, dtype), size);
  });
}

}  // extern "C"
