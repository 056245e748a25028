// RecordFilter is portable C++: this test builds it natively (make check)
// under ASan/UBSan and checks what the pump keeps, counts and passes on.
#include "record_filter.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kmon_abi.h"

using kmon::win::RecordFilter;

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static void Append(std::vector<uint8_t>& batch, uint16_t kind, uint32_t tgid, uint32_t size, uint64_t seq) {
  kmon_header h{};
  h.abi_version = KMON_ABI_VERSION;
  h.kind = kind;
  h.size = size;
  h.tgid = tgid;
  h.seq = seq;
  size_t at = batch.size();
  batch.resize(at + size, 0xab);
  std::memcpy(batch.data() + at, &h, sizeof(h));
}

static std::vector<uint64_t> Seqs(const uint8_t* data, size_t len) {
  std::vector<uint64_t> seqs;
  for (size_t at = 0; at < len;) {
    kmon_header h;
    std::memcpy(&h, data + at, sizeof(h));
    seqs.push_back(h.seq);
    at += h.size;
  }
  return seqs;
}

int main() {
  const uint32_t synth = 1u << KMON_KIND_SYNTH, exec = 1u << KMON_KIND_EXEC;
  std::vector<uint8_t> batch;
  Append(batch, KMON_KIND_SYNTH, 0, 64, 0);
  Append(batch, KMON_KIND_EXEC, 42, 160, 1);
  Append(batch, KMON_KIND_SYNTH, 0, 72, 2);
  Append(batch, KMON_KIND_EXEC, 7, 112, 3);  // our own process
  std::vector<uint8_t> out(batch.size());
  uint32_t records = 0;

  // Every kind asked for: the batch goes through unchanged.
  RecordFilter all{synth | exec, 0};
  CHECK(all.Apply(batch.data(), batch.size(), out.data(), &records) == batch.size());
  CHECK(records == 4);
  CHECK(std::memcmp(out.data(), batch.data(), batch.size()) == 0);
  CHECK(RecordFilter::Count(batch.data(), batch.size()) == 4);

  // Kinds not asked for are left out, in order, whole.
  RecordFilter synths{synth, 0};
  size_t kept = synths.Apply(batch.data(), batch.size(), out.data(), &records);
  CHECK(kept == 64 + 72 && records == 2);
  CHECK((Seqs(out.data(), kept) == std::vector<uint64_t>{0, 2}));

  // excludeSelf drops our own records only.
  RecordFilter not_self{synth | exec, 7};
  kept = not_self.Apply(batch.data(), batch.size(), out.data(), &records);
  CHECK(records == 3 && (Seqs(out.data(), kept) == std::vector<uint64_t>{0, 1, 2}));

  // Nothing wanted: nothing kept.
  RecordFilter none{1u << KMON_KIND_FORK, 0};
  CHECK(none.Apply(batch.data(), batch.size(), out.data(), &records) == 0 && records == 0);

  // A malformed size stops the walk; the rest goes on verbatim for the decoder to report.
  std::vector<uint8_t> bad = batch;
  kmon_header h;
  std::memcpy(&h, bad.data() + 64, sizeof(h));
  h.size = 12;  // below the header size
  std::memcpy(bad.data() + 64, &h, sizeof(h));
  kept = synths.Apply(bad.data(), bad.size(), out.data(), &records);
  CHECK(kept == bad.size() && records == 2);
  CHECK(std::memcmp(out.data() + 64, bad.data() + 64, bad.size() - 64) == 0);
  CHECK(RecordFilter::Count(bad.data(), bad.size()) == 2);

  // A record running past the end, and a tail shorter than a header.
  std::vector<uint8_t> cut(batch.begin(), batch.begin() + 64 + 100);
  kept = synths.Apply(cut.data(), cut.size(), out.data(), &records);
  CHECK(kept == cut.size() && records == 2);
  std::vector<uint8_t> tail(batch.begin(), batch.begin() + 64 + 20);
  CHECK(synths.Apply(tail.data(), tail.size(), out.data(), &records) == tail.size() && records == 2);
  CHECK(RecordFilter::Count(nullptr, 0) == 0);

  if (failures) return EXIT_FAILURE;
  std::puts("record_filter_test: ok");
  return EXIT_SUCCESS;
}
