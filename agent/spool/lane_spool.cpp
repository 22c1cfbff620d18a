#include "agent/spool/lane_spool.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <tuple>

#include "agent/util/log.h"

namespace vigil {
namespace {

constexpr size_t kSequenceDigits = 16;

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Whether `dir` holds a segment file: a spool to drain.
bool has_segments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return false;
  }
  bool found = false;
  while (dirent* e = readdir(d)) {
    if (parse_segment_file_name(e->d_name)) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

bool is_high(const SpoolEntry& e) {
  size_t kind = payload_kind(e.payload);
  return kRecordKindNames[kind] == std::string_view("incident") ||
         kRecordKindNames[kind] == std::string_view("problem");
}

}  // namespace

void LaneSpool::write_sequence(uint64_t seq, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = kSequenceDigits; i-- > 0; seq >>= 4) {
    out[i] = kHex[seq & 0x0f];
  }
}

std::string LaneSpool::sequenced_id(uint64_t seq, std::string_view id) {
  std::string out(kSequenceDigits + 1 + id.size(), ':');
  write_sequence(seq, out.data());
  out.replace(kSequenceDigits + 1, id.size(), id);
  return out;
}

uint64_t LaneSpool::strip_sequence(std::string* id) {
  if (id->size() <= kSequenceDigits || (*id)[kSequenceDigits] != ':') {
    return 0;
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kSequenceDigits; ++i) {
    char c = (*id)[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return 0;
    }
    seq = seq << 4 | static_cast<uint64_t>(digit);
  }
  id->erase(0, kSequenceDigits + 1);
  return seq;
}

Result<std::unique_ptr<LaneSpool>> LaneSpool::open(const std::string& dir, SpoolOptions opts,
                                                   bool priority) {
  std::unique_ptr<LaneSpool> spool(new LaneSpool(priority));
  if (Status st = spool->open_lanes(dir, opts); !st.ok()) {
    return st.error_info();
  }
  if (Status st = spool->find_next_sequence(); !st.ok()) {
    return st.error_info();
  }
  return spool;
}

// The lanes in use come first (high, low; or the one lane), then those to drain.
Status LaneSpool::open_lanes(const std::string& dir, const SpoolOptions& opts) {
  if (!priority_) {
    if (Status st = add_lane(dir, opts, 1, false, false); !st.ok()) {
      return st;
    }
    for (const char* sub : {"/high", "/low"}) {
      if (is_dir(dir + sub) && has_segments(dir + sub)) {
        if (Status st = add_lane(dir + sub, opts, 0, true, false); !st.ok()) {
          return st;
        }
      }
    }
    return {};
  }
  SpoolOptions low = opts;
  low.drop_newest = false;
  low.segment_bytes = std::max<uint64_t>(opts.max_bytes / 32, 1);
  bool legacy = has_segments(dir);
  if (Status st = add_lane(dir + "/high", opts, 1, true, false); !st.ok()) {
    return st;
  }
  if (Status st = add_lane(dir + "/low", low, 1, true, true); !st.ok()) {
    return st;
  }
  low_ = 1;
  if (legacy) {
    return add_lane(dir, opts, 0, false, false);
  }
  return {};
}

Status LaneSpool::add_lane(const std::string& dir, SpoolOptions opts, int rank, bool sequenced,
                           bool low) {
  const size_t index = lanes_.size();
  opts.others_bytes = [this, index] { return bytes_besides(index); };
  opts.evict_other = [this, index] { return evict_for(index); };
  auto spool = Spool::open(dir, std::move(opts));
  if (!spool.ok()) {
    return spool.error_info();
  }
  lanes_.push_back(Lane{std::move(spool).value(), rank, sequenced, low});
  return {};
}

Status LaneSpool::find_next_sequence() {
  uint64_t last = 0;
  for (Lane& lane : lanes_) {
    if (!lane.sequenced || lane.rank == 0) {
      continue;
    }
    auto id = lane.spool->last_id();
    if (!id.ok()) {
      return id.error_info();
    }
    std::string text = id.value();
    last = std::max(last, strip_sequence(&text));
  }
  next_seq_ = last + 1;
  durable_seq_ = last;
  return {};
}

uint64_t LaneSpool::bytes_besides(size_t lane) const {
  uint64_t total = 0;
  for (size_t i = 0; i < lanes_.size(); ++i) {
    if (i != lane) {
      total += lanes_[i].spool->stats().disk_bytes;
    }
  }
  return total;
}

// The low lane gives way first, then the lanes being drained (they are older than
// anything in use). The high lane never gives way to another lane: spool_full
// applies to it once the others are empty. With priority off the lane in use gives
// way only to the drained ones.
bool LaneSpool::evict_for(size_t for_lane) {
  if (priority_ && for_lane != low_ && lanes_[low_].spool->evict_oldest()) {
    return true;
  }
  for (size_t i = 0; i < lanes_.size(); ++i) {
    if (i != for_lane && lanes_[i].rank == 0 && lanes_[i].spool->evict_oldest()) {
      return true;
    }
  }
  return false;
}

size_t LaneSpool::lane_for(const SpoolEntry& e) const {
  return priority_ && !is_high(e) ? low_ : high_;
}

// Group commit across lanes: the low lane's records in one Spool::append, then the
// high lane's in another, two fdatasyncs at most. peek() shows none of them until
// both are done (durable_seq_), so that none overtakes an older record of the other
// lane. A low record the disk refuses stops the batch there: only the high records
// before it are appended. A high record is refused only once the low lane has given
// up every segment, this batch's records included, so none is left behind it.
Result<AppendResult> LaneSpool::append(const std::vector<SpoolEntry>& records) {
  MutexLock serial(append_mu_);
  const size_t n = records.size();
  if (!priority_) {
    return lanes_[0].spool->append(records);
  }
  // The records go to their lanes by reference, each id behind its sequence number
  // ("SEQ:"), all of those in one buffer: no record is copied before it is encoded.
  constexpr size_t kPrefix = kSequenceDigits + 1;
  std::string prefixes(n * kPrefix, ':');
  std::vector<SpoolRecord> low, high;
  std::vector<size_t> low_at, high_at;  // each one's index in `records`
  for (size_t i = 0; i < n; ++i) {
    write_sequence(next_seq_ + i, &prefixes[i * kPrefix]);
    bool to_low = lane_for(records[i]) == low_;
    (to_low ? low : high)
        .push_back(SpoolRecord{std::string_view(prefixes).substr(i * kPrefix, kPrefix),
                               records[i].id, records[i].payload});
    (to_low ? low_at : high_at).push_back(i);
  }
  AppendResult out;
  out.taken = n;
  auto low_done = append_run(low_, low);
  if (!low_done.ok()) {
    return low_done.error_info();
  }
  if (low_done.value().taken < low.size()) {
    out.taken = low_at[low_done.value().taken];
    out.no_space_error = low_done.value().no_space_error;
  }
  size_t high_n = static_cast<size_t>(std::lower_bound(high_at.begin(), high_at.end(), out.taken) -
                                      high_at.begin());
  high.resize(high_n);
  auto high_done = append_run(high_, high);
  if (!high_done.ok()) {
    return high_done.error_info();
  }
  if (high_done.value().taken < high_n) {
    out.taken = high_at[high_done.value().taken];
    out.no_space_error = high_done.value().no_space_error;
  }
  next_seq_ += n;
  durable_seq_ = next_seq_ - 1;
  return out;
}

Result<AppendResult> LaneSpool::append_run(size_t lane, const std::vector<SpoolRecord>& run) {
  AppendResult out;
  if (run.empty()) {
    return out;
  }
  std::vector<SpoolRecord> rest;
  const std::vector<SpoolRecord>* todo = &run;
  int barren = 0;  // the low lane's own evictions in a row after which it took nothing
  while (true) {
    auto appended = lanes_[lane].spool->append(*todo);
    if (!appended.ok()) {
      return appended.error_info();
    }
    out.taken += appended.value().taken;
    if (out.taken == run.size()) {
      return out;
    }
    barren = appended.value().taken == 0 ? barren + 1 : 0;
    // The disk is full: the low lane's oldest records make room, if any are left
    // (for low records too: the low lane's oldest give way to its newest).
    bool evicted =
        evict_for(lane) || (lane == low_ && barren <= 2 && lanes_[low_].spool->evict_oldest());
    if (!evicted) {
      out.no_space_error = appended.value().no_space_error;
      return out;
    }
    rest.assign(run.begin() + static_cast<std::ptrdiff_t>(out.taken), run.end());
    todo = &rest;
  }
}

// Each lane's head, then a merge by (rank, sequence number). A lane whose head
// stopped at the budget may hold a record that sorts before another lane's next one,
// so the merge stops when it has used all of such a lane's records.
Result<std::vector<SpoolEntry>> LaneSpool::peek(size_t max_records, uint64_t max_bytes,
                                                const std::vector<SpoolPosition>& after) {
  const uint64_t durable = durable_seq_;
  struct Head {
    std::vector<SpoolEntry> entries;
    std::vector<uint64_t> seqs;
    bool more = false;
    size_t next = 0;
  };
  std::vector<Head> heads(lanes_.size());
  for (size_t i = 0; i < lanes_.size(); ++i) {
    if (lanes_[i].spool->stats().records == 0) {
      continue;
    }
    auto peeked = lanes_[i].spool->peek(max_records, max_bytes, &heads[i].more,
                                        i < after.size() ? after[i] : SpoolPosition{});
    if (!peeked.ok()) {
      return peeked.error_info();
    }
    Head& h = heads[i];
    for (SpoolEntry& e : peeked.value()) {
      uint64_t seq = lanes_[i].sequenced ? strip_sequence(&e.id) : 0;
      if (priority_ && lanes_[i].rank == 1 && seq > durable) {
        h.more = false;  // appended after the others were read: the next peek has it
        break;
      }
      e.lane = static_cast<uint8_t>(i);
      h.entries.push_back(std::move(e));
      h.seqs.push_back(seq);
    }
  }
  std::vector<SpoolEntry> out;
  const size_t limit = std::max<size_t>(max_records, 1);
  out.reserve(std::min<size_t>(limit, 4096));
  uint64_t bytes = 0;
  while (out.size() < limit) {
    size_t best = lanes_.size();
    bool blocked = false;
    for (size_t i = 0; i < lanes_.size(); ++i) {
      const Head& h = heads[i];
      if (h.next >= h.entries.size()) {
        blocked = blocked || h.more;
        continue;
      }
      if (best == lanes_.size() ||
          std::tie(lanes_[i].rank, h.seqs[h.next]) <
              std::tie(lanes_[best].rank, heads[best].seqs[heads[best].next])) {
        best = i;
      }
    }
    if (best == lanes_.size() || blocked) {
      break;
    }
    SpoolEntry& e = heads[best].entries[heads[best].next];
    if (!out.empty() && bytes + e.payload.size() > max_bytes) {
      break;
    }
    bytes += e.payload.size();
    out.push_back(std::move(e));
    ++heads[best].next;
  }
  return out;
}

Status LaneSpool::ack(const std::vector<SpoolEntry>& batch) {
  std::vector<std::optional<SpoolPosition>> through(lanes_.size());
  for (const SpoolEntry& e : batch) {
    if (e.lane < lanes_.size()) {
      through[e.lane] = e.end;
    }
  }
  for (size_t i = 0; i < lanes_.size(); ++i) {
    if (through[i]) {
      if (Status st = lanes_[i].spool->ack(*through[i]); !st.ok()) {
        return st;
      }
    }
  }
  return {};
}

SpoolStats LaneSpool::stats() const {
  SpoolStats total;
  for (const Lane& lane : lanes_) {
    SpoolStats st = lane.spool->stats();
    total.records += st.records;
    total.bytes += st.bytes;
    total.dropped += st.dropped;
    total.corrupt_frames += st.corrupt_frames;
    total.disk_bytes += st.disk_bytes;
    for (size_t k = 0; k < kRecordKinds; ++k) {
      total.dropped_by_kind[k] += st.dropped_by_kind[k];
    }
  }
  return total;
}

std::pair<uint64_t, uint64_t> LaneSpool::lane_bytes() const {
  if (!priority_) {
    return {0, 0};
  }
  return {lanes_[high_].spool->stats().bytes, lanes_[low_].spool->stats().bytes};
}

}  // namespace vigil
