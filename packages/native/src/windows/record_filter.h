// What a session sees of kmon.sys's records. The driver records every kind
// its sources produce, for every process, and numbers them per CPU and kind;
// a session asks for some kinds and (excludeSelf) not its own process, and
// must see sequence numbers that mean what they mean on Linux: per CPU, one
// per record of the session attempted, so that a gap of n on a CPU is n
// records dropped and counted. The driver has no per-handle filter, so this
// filter, on the pump thread, keeps the session's records and renumbers them
// before a batch is queued for JS:
//  - a record of a kind the session asked for takes the next number of its
//    CPU, after as many numbers as the driver's own sequence for that CPU and
//    kind skipped (records the driver dropped, counted in its dropped[kind]);
//  - records the session did not ask for (other kinds, its own process) take
//    no number, so they leave no gap;
//  - the first record of each CPU starts at 0, as in a fresh Linux session
//    (what was dropped before it is counted, but shows no gap).
// A batch the queue then drops has taken its numbers: its records leave the
// gap that the binding's own drop counter explains.
#ifndef KMON_WIN_RECORD_FILTER_H
#define KMON_WIN_RECORD_FILTER_H

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "kmon_abi.h"

namespace kmon {
namespace win {

class RecordFilter {
 public:
  // kinds: bit (1 << kind) per kind to keep; self_tgid: records of this process are left out (0 keeps them).
  RecordFilter(uint32_t kinds, uint32_t self_tgid) : kinds_(kinds), self_tgid_(self_tgid) {}

  // Copies the session's records from `in` (whole records back to back, in
  // ring order) into `out` (room for `len` bytes; nullptr: only account for
  // them), renumbered; returns the bytes kept and sets *records to their
  // number. Where the framing breaks (kmon_frame_check) the rest is kept
  // verbatim, as one record, so the decoder above reports it; a record that
  // frames but does not decode (unknown kind, a length past its end) is
  // kept as it is for the same reason, if it may be the session's.
  size_t Apply(const uint8_t* in, size_t len, uint8_t* out, uint32_t* records);

 private:
  // Per CPU: the session's next number, and the driver's next one per kind (0: none seen yet).
  struct Cpu {
    uint64_t next = 0;
    uint64_t driver_next[KMON_KIND_COUNT] = {};
  };

  // Follows the driver's sequence of h's CPU and kind (h is of a kind the
  // session asked for); false for a record of the session's own process,
  // else *seq is the session's number for it.
  bool Number(const kmon_header& h, uint64_t* seq);

  const uint32_t kinds_;
  const uint32_t self_tgid_;
  std::unordered_map<uint32_t, Cpu> cpus_;
};

// Records in a batch the filter produced (framing as kmon_frame_check sees it; a broken rest counts as one).
uint32_t CountRecords(const uint8_t* data, size_t len);

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_RECORD_FILTER_H
