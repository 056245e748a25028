// RecordFilter is portable C++: this test builds it natively (make check)
// under ASan/UBSan and checks what the pump keeps, how it renumbers it and
// what it passes on for the decoder to report.
#include "record_filter.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kmon_abi.h"

using kmon::win::CountRecords;
using kmon::win::RecordFilter;

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

struct Rec {
  uint16_t kind;
  uint32_t cpu;
  uint64_t seq;  // the driver's, per CPU and kind
  uint32_t tgid;
};

static uint32_t BodySize(uint16_t kind) {
  switch (kind) {
    case KMON_KIND_EXEC: return sizeof(kmon_exec);
    case KMON_KIND_EXIT: return sizeof(kmon_exit);
    default: return sizeof(kmon_synth);
  }
}

static std::vector<uint8_t> Batch(const std::vector<Rec>& recs) {
  std::vector<uint8_t> batch;
  for (const Rec& r : recs) {
    kmon_header h{};
    h.abi_version = KMON_ABI_VERSION;
    h.kind = r.kind;
    h.size = BodySize(r.kind);
    h.cpu = r.cpu;
    h.seq = r.seq;
    h.tgid = r.tgid;
    size_t at = batch.size();
    batch.resize(at + h.size, 0);
    std::memcpy(batch.data() + at, &h, sizeof(h));
  }
  return batch;
}

// (cpu, seq) of every record of a batch, as the filter left them.
static std::vector<std::pair<uint32_t, uint64_t>> Seqs(const std::vector<uint8_t>& batch, size_t len) {
  std::vector<std::pair<uint32_t, uint64_t>> seqs;
  for (size_t at = 0; at < len;) {
    kmon_header h;
    std::memcpy(&h, batch.data() + at, sizeof(h));
    seqs.emplace_back(h.cpu, h.seq);
    at += h.size;
  }
  return seqs;
}

static std::vector<std::pair<uint32_t, uint64_t>> Run(RecordFilter& filter, const std::vector<Rec>& recs,
                                                      uint32_t* records = nullptr) {
  std::vector<uint8_t> in = Batch(recs), out(in.size());
  uint32_t n = 0;
  size_t kept = filter.Apply(in.data(), in.size(), out.data(), &n);
  if (records) *records = n;
  CHECK(n == Seqs(out, kept).size());
  return Seqs(out, kept);
}

using Numbers = std::vector<std::pair<uint32_t, uint64_t>>;
const uint32_t kSynth = 1u << KMON_KIND_SYNTH, kExec = 1u << KMON_KIND_EXEC;
const uint16_t S = KMON_KIND_SYNTH, E = KMON_KIND_EXEC, X = KMON_KIND_EXIT;

int main() {
  {  // Per CPU from 0, whatever the driver's numbers were when the session opened.
    RecordFilter f(kSynth | kExec, 0);
    CHECK((Run(f, {{S, 0, 40, 0}, {E, 1, 7, 9}, {S, 1, 12, 0}, {E, 0, 3, 9}, {S, 0, 41, 0}}) ==
           Numbers{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 2}}));
    // The numbering goes on across batches.
    CHECK((Run(f, {{S, 0, 42, 0}, {E, 1, 8, 9}}) == Numbers{{0, 3}, {1, 2}}));
  }
  {  // Kinds not asked for take no number: no gap.
    RecordFilter f(kSynth, 0);
    CHECK((Run(f, {{S, 0, 0, 0}, {E, 0, 0, 9}, {X, 0, 0, 9}, {S, 0, 1, 0}}) == Numbers{{0, 0}, {0, 1}}));
  }
  {  // What the driver dropped (its sequence for that CPU and kind skipped) is the session's gap, on that CPU.
    RecordFilter f(kSynth | kExec, 0);
    CHECK((Run(f, {{S, 0, 0, 0}, {S, 0, 1, 0}, {S, 0, 4, 0}}) == Numbers{{0, 0}, {0, 1}, {0, 4}}));
    CHECK((Run(f, {{E, 0, 0, 9}, {E, 0, 3, 9}, {S, 0, 5, 0}, {S, 1, 0, 0}}) ==
           Numbers{{0, 5}, {0, 8}, {0, 9}, {1, 0}}));
    // A drop of a kind the session did not ask for leaves no gap.
    RecordFilter synths(kSynth, 0);
    CHECK((Run(synths, {{S, 0, 0, 0}, {E, 0, 0, 9}, {E, 0, 5, 9}, {S, 0, 1, 0}}) == Numbers{{0, 0}, {0, 1}}));
  }
  {  // excludeSelf: our own records take no number; one of ours the driver dropped is a counted drop like any.
    RecordFilter f(kSynth | kExec, 7);
    CHECK((Run(f, {{E, 0, 0, 9}, {E, 0, 1, 7}, {E, 0, 2, 9}}) == Numbers{{0, 0}, {0, 1}}));
    CHECK((Run(f, {{E, 0, 4, 9}}) == Numbers{{0, 3}}));
  }
  {  // Accounting only (out == nullptr, a batch that cannot be kept): the numbers are taken all the same.
    RecordFilter f(kSynth, 0);
    std::vector<uint8_t> in = Batch({{S, 0, 0, 0}, {S, 0, 1, 0}, {E, 0, 0, 9}});
    uint32_t n = 0;
    CHECK(f.Apply(in.data(), in.size(), nullptr, &n) == 2 * sizeof(kmon_synth) && n == 2);
    CHECK((Run(f, {{S, 0, 2, 0}}) == Numbers{{0, 2}}));
  }
  {  // Records that do not decode are passed on for the decoder to report.
    RecordFilter f(kSynth, 0);
    std::vector<uint8_t> in = Batch({{S, 0, 0, 0}, {99, 0, 0, 0}, {E, 0, 0, 0}, {S, 0, 1, 0}});
    std::vector<uint8_t> out(in.size());
    uint32_t n = 0;
    size_t kept = f.Apply(in.data(), in.size(), out.data(), &n);
    CHECK(n == 3 && kept == 3 * sizeof(kmon_synth));  // the unknown kind 99 stays, the exec goes
    CHECK(std::memcmp(out.data() + sizeof(kmon_synth), in.data() + sizeof(kmon_synth), sizeof(kmon_synth)) == 0);

    // A broken size stops the walk: the rest goes on verbatim, as one record.
    std::vector<uint8_t> bad = Batch({{S, 0, 2, 0}, {S, 0, 3, 0}, {S, 0, 4, 0}});
    kmon_header h;
    std::memcpy(&h, bad.data() + sizeof(kmon_synth), sizeof(h));
    h.size = 12;  // below the header size
    std::memcpy(bad.data() + sizeof(kmon_synth), &h, sizeof(h));
    kept = f.Apply(bad.data(), bad.size(), out.data(), &n);
    CHECK(kept == bad.size() && n == 2);
    CHECK(std::memcmp(out.data() + sizeof(kmon_synth), bad.data() + sizeof(kmon_synth), bad.size() - sizeof(kmon_synth)) == 0);
    CHECK(CountRecords(bad.data(), bad.size()) == 2);

    // A tail shorter than a header.
    std::vector<uint8_t> cut(bad.begin(), bad.begin() + sizeof(kmon_synth) + 20);
    CHECK(CountRecords(cut.data(), cut.size()) == 2);
    CHECK(CountRecords(nullptr, 0) == 0);
  }
  if (failures) return EXIT_FAILURE;
  std::puts("record_filter_test: ok");
  return EXIT_SUCCESS;
}
