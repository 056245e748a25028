#include "record_filter.h"

#include <cstring>

#include "kmon_frame.h"

namespace kmon {
namespace win {

bool RecordFilter::Number(const kmon_header& h, uint64_t* seq) {
  Cpu& cpu = cpus_[h.cpu];
  uint64_t& driver_next = cpu.driver_next[h.kind];
  if (driver_next != 0 && h.seq >= driver_next) cpu.next += h.seq - driver_next;  // the driver dropped these
  driver_next = h.seq + 1;
  if (self_tgid_ && h.tgid == self_tgid_) return false;
  *seq = cpu.next++;
  return true;
}

size_t RecordFilter::Apply(const uint8_t* in, size_t len, uint8_t* out, uint32_t* records) {
  size_t kept = 0;
  uint32_t count = 0;
  auto keep = [&](const uint8_t* from, size_t n) {
    if (out) std::memcpy(out + kept, from, n);
    kept += n;
    count++;
  };
  for (size_t at = 0; at < len;) {
    kmon_frame f = kmon_frame_check(in + at, len - at);
    if (f.verdict == KMON_FRAME_STOP) {
      keep(in + at, len - at);
      break;
    }
    kmon_header h;
    std::memcpy(&h, in + at, sizeof(h));
    uint64_t seq = 0;
    if (h.kind < KMON_KIND_COUNT && (kinds_ & (1u << h.kind))) {
      if (Number(h, &seq)) {
        size_t to = kept;
        keep(in + at, f.size);
        if (out) std::memcpy(out + to + offsetof(kmon_header, seq), &seq, sizeof(seq));
      }
    } else if (!kmon_frame_kind_name(h.kind)) {
      keep(in + at, f.size);  // no kind kmon knows: the decoder says so
    }
    at += f.size;
  }
  *records = count;
  return kept;
}

uint32_t CountRecords(const uint8_t* data, size_t len) {
  uint32_t count = 0;
  for (size_t at = 0; at < len; count++) {
    kmon_frame f = kmon_frame_check(data + at, len - at);
    if (f.verdict == KMON_FRAME_STOP) return count + 1;
    at += f.size;
  }
  return count;
}

}  // namespace win
}  // namespace kmon
