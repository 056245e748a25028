#include "record_filter.h"

#include <cstring>

#include "kmon_abi.h"

namespace kmon {
namespace win {
namespace {

bool SaneSize(uint32_t size, size_t left) {
  return size >= sizeof(kmon_header) && size % KMON_RECORD_ALIGN == 0 && size <= left;
}

}  // namespace

size_t RecordFilter::Apply(const uint8_t* in, size_t len, uint8_t* out, uint32_t* records) const {
  size_t kept = 0;
  uint32_t count = 0;
  for (size_t at = 0; at < len;) {
    kmon_header h;
    if (len - at < sizeof(h)) {
      std::memcpy(out + kept, in + at, len - at);
      kept += len - at;
      count++;
      break;
    }
    std::memcpy(&h, in + at, sizeof(h));
    if (!SaneSize(h.size, len - at)) {
      std::memcpy(out + kept, in + at, len - at);
      kept += len - at;
      count++;
      break;
    }
    bool keep = h.kind < 32 && (kinds & (1u << h.kind)) && !(self_tgid && h.tgid == self_tgid);
    if (keep) {
      std::memcpy(out + kept, in + at, h.size);
      kept += h.size;
      count++;
    }
    at += h.size;
  }
  *records = count;
  return kept;
}

uint32_t RecordFilter::Count(const uint8_t* data, size_t len) {
  uint32_t count = 0;
  for (size_t at = 0; at < len; count++) {
    kmon_header h;
    if (len - at < sizeof(h)) return count + 1;
    std::memcpy(&h, data + at, sizeof(h));
    if (!SaneSize(h.size, len - at)) return count + 1;
    at += h.size;
  }
  return count;
}

}  // namespace win
}  // namespace kmon
