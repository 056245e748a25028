// kmon.sys records every kind its sources produce, for every process; a
// session asks for some kinds and (excludeSelf) not its own process. The
// driver has no per-handle filter, so the backend keeps only what was asked
// for before a batch leaves the pump thread. Sequence numbers are the
// driver's: records filtered out leave gaps that no drop counter explains,
// which the loss accounting above treats as "nothing lost".
#ifndef KMON_WIN_RECORD_FILTER_H
#define KMON_WIN_RECORD_FILTER_H

#include <cstddef>
#include <cstdint>

namespace kmon {
namespace win {

struct RecordFilter {
  uint32_t kinds = 0;      // bit (1 << kind) per kind to keep
  uint32_t self_tgid = 0;  // records of this process are dropped; 0 keeps them

  // Copies the records to keep from `in` (whole records back to back) into
  // `out` (room for `len` bytes); returns the bytes kept and the records in
  // them. A malformed size stops the walk: the rest is kept verbatim so the
  // decoder above reports it.
  size_t Apply(const uint8_t* in, size_t len, uint8_t* out, uint32_t* records) const;

  // Records in a batch (for drop counting of a batch nobody will see).
  static uint32_t Count(const uint8_t* data, size_t len);
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_RECORD_FILTER_H
