#include "agent/state/state_store.h"

#include <unistd.h>

#include "agent/util/fs.h"

namespace vigil {

StateStore::StateStore(const std::string& state_dir, SlotFile::SyncFn sync)
    : base_(state_dir + "/state"),
      legacy_(state_dir + "/state.json"),
      slots_(base_, std::move(sync)) {}

StateStore::Loaded StateStore::load() {
  std::lock_guard<std::mutex> lock(mu_);
  Loaded out;
  SlotFile::Loaded slots = slots_.load();
  if (!slots.set_aside.empty()) {
    // One state lost, however many of its slot files were damaged.
    std::string names;
    for (const std::string& aside : slots.set_aside) {
      names += (names.empty() ? "" : " and ") + aside;
    }
    ++out.corrupt;
    out.errors.push_back("state file " + base_ +
                         ".0/.1 is unusable (no slot passes its checksum); kept aside as " + names +
                         ", starting without it");
  }
  legacy_present_ = access(legacy_.c_str(), F_OK) == 0;
  if (slots.document) {
    auto decoded = decode_state(*slots.document, base_);
    if (decoded.ok()) {
      out.state = std::move(decoded.value());
      return out;
    }
    // A document whose checksum holds but which cannot be used: written by a buggy
    // or a newer agent. Start without it; the next save replaces it.
    ++out.corrupt;
    out.errors.push_back(decoded.error() + "; starting without it");
    return out;
  }
  if (!legacy_present_) {
    return out;
  }
  auto legacy = load_state(legacy_);
  if (!legacy.ok()) {
    ++out.corrupt;
    out.errors.push_back(legacy.error() + "; kept aside as " + move_aside(legacy_) +
                         ", starting without it");
    legacy_present_ = false;
    return out;
  }
  out.state = std::move(legacy.value());
  return out;
}

SlotFile::SaveResult StateStore::save(const AgentState& state) {
  std::string document = encode_state(state);
  std::lock_guard<std::mutex> lock(mu_);
  SlotFile::SaveResult r = slots_.save(document);
  if (r.outcome == SlotFile::Outcome::kOk && legacy_present_) {
    // The slots hold the state now; the old file would only mislead.
    unlink(legacy_.c_str());
    legacy_present_ = false;
  }
  return r;
}

}  // namespace vigil
