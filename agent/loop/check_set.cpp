#include "agent/loop/check_set.h"

#include <algorithm>

#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

// Two sections configure the same thing when their keys and values match.
bool same_section(const Section& a, const Section& b) {
  if (a.entries.size() != b.entries.size()) {
    return false;
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    if (a.entries[i].key != b.entries[i].key || a.entries[i].value != b.entries[i].value) {
      return false;
    }
  }
  return true;
}

bool same_check(const CheckConfig& a, const CheckConfig& b) {
  return a.plugin == b.plugin && a.enabled == b.enabled && same_section(a.section, b.section) &&
         a.interval == b.interval && a.timeout == b.timeout && a.tags == b.tags;
}

}  // namespace

uint64_t CheckSlot::lost(std::string_view counter) const {
  uint64_t total = 0;
  for (const LossCount& l : losses) {
    if (l.counter == counter) {
      total += l.total;
    }
  }
  return total;
}

CheckSet::CheckSet(uv_loop_t* loop, const Clock& clock, Host host, OnEvaluation on_evaluation)
    : loop_(loop),
      clock_(clock),
      host_(std::move(host)),
      on_evaluation_(std::move(on_evaluation)),
      anchor_(loop_now(loop)) {}

CheckSet::~CheckSet() { stop(); }

void CheckSet::start(const std::vector<CheckConfig>& checks) {
  for (const CheckConfig& cc : checks) {
    if (cc.enabled) {
      auto slot = std::make_unique<CheckSlot>();
      slot->config = cc;
      slots_.push_back(std::move(slot));
    }
  }
  for (auto& slot : slots_) {
    start_one(*slot);
  }
}

void CheckSet::start_one(CheckSlot& slot) {
  const CheckConfig& cc = slot.config;
  slot.evaluator = std::make_unique<RuleEvaluator>(cc.name, cc.rules, cc.unknown_after);
  if (auto it = saved_.find(cc.name); it != saved_.end() && it->second.plugin == cc.plugin) {
    slot.state = it->second.state;
    slot.since = it->second.since;
    slot.evaluator->restore_state(slot.state);
  }
  PluginConfig pc{cc.section, cc.name, host_.procfs, host_.sysfs, cc.options};
  auto collector = cc.plugin_def->create(pc);
  if (!collector.ok()) {
    // Validated at load time; a failure here is reported as the check's error.
    slot.error = collector.error();
    log_error("check " + cc.name + ": " + collector.error());
    return;
  }
  CollectContext ctx;
  ctx.procfs = host_.procfs;
  ctx.sysfs = host_.sysfs;
  ctx.state_dir = host_.state_dir + "/checks/" + cc.name;
  if (Status s = make_dirs(ctx.state_dir, 0750); !s.ok()) {
    log_warning("check " + cc.name + ": " + s.error());
  }
  ctx.services = host_.services;
  std::shared_ptr<Collector> shared(std::move(collector).value().release());
  CheckSlot* raw = &slot;
  slot.runner = std::make_unique<CheckRunner>(
      loop_, clock_, cc, shared, ctx, [this, raw](Result<Sample> r, MonotonicTime scheduled) {
        on_result(*raw, std::move(r), scheduled);
      });
  slot.runner->start(anchor_);
}

void CheckSet::on_result(CheckSlot& slot, Result<Sample> result, MonotonicTime scheduled) {
  if (stopped_) {
    return;
  }
  slot.last_run = clock_.wall();
  Evaluation eval;
  double occurrences = 0;
  if (result.ok()) {
    Sample& sample = result.value();
    if (!sample.losses.empty()) {
      slot.losses = std::move(sample.losses);  // cumulative: the latest report holds all
    }
    slot.metrics = sample.metrics;
    slot.error.reset();
    for (const std::string& line : sample.examples) {
      if (slot.examples.size() < kMaxExampleLines) {
        slot.examples.push_back(line);
      }
    }
    occurrences = sample.occurrences;
    eval = slot.evaluator->on_sample(sample, scheduled);
  } else {
    slot.error = result.error();
    eval = slot.evaluator->on_failure(result.error(), scheduled);
  }
  on_evaluation_(slot, eval, occurrences);
}

std::vector<std::string> CheckSet::apply(const std::vector<CheckConfig>& checks) {
  std::vector<std::unique_ptr<CheckSlot>> next;
  for (const CheckConfig& cc : checks) {
    if (!cc.enabled) {
      continue;
    }
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const auto& c) {
      return c != nullptr && c->config.name == cc.name && c->config.plugin == cc.plugin;
    });
    std::unique_ptr<CheckSlot> slot;
    if (it != slots_.end()) {
      slot = std::move(*it);
      bool unchanged = same_check(slot->config, cc) && slot->runner != nullptr;
      slot->config = cc;
      if (!unchanged) {
        slot->runner.reset();
        start_one(*slot);
      }
    } else {
      slot = std::make_unique<CheckSlot>();
      slot->config = cc;
      start_one(*slot);
      log_info("reload: check " + cc.name + " added");
    }
    next.push_back(std::move(slot));
  }
  std::vector<std::string> removed;
  for (auto& old : slots_) {
    if (old != nullptr) {
      old->runner.reset();
      log_info("reload: check " + old->config.name + " removed");
      removed.push_back(old->config.name);
    }
  }
  slots_ = std::move(next);
  return removed;
}

void CheckSet::stop() {
  stopped_ = true;
  for (auto& c : slots_) {
    if (c->runner != nullptr) {
      c->runner->stop();
    }
  }
}

bool CheckSet::has(const std::string& name) const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const auto& c) { return c->config.name == name; });
}

void CheckSet::save_into(std::map<std::string, SavedCheck>& out, SystemTime now) const {
  for (const auto& c : slots_) {
    if (c->state) {
      out[c->config.name] = SavedCheck{c->config.plugin, *c->state, c->since.value_or(now)};
    }
  }
  // Checks that are disabled or not started keep their saved state.
  for (const auto& [name, saved] : saved_) {
    if (out.find(name) == out.end() && !has(name)) {
      out[name] = saved;
    }
  }
}

std::vector<LossPlace> CheckSet::loss_places() const {
  std::vector<LossPlace> places;
  for (const auto& c : slots_) {
    for (const LossCount& l : c->losses) {
      if (l.total > 0) {
        places.push_back(LossPlace{l.counter, "check " + c->config.name + ": " + l.place});
      }
    }
  }
  return places;
}

uint64_t CheckSet::lost(std::string_view counter) const {
  uint64_t total = 0;
  for (const auto& c : slots_) {
    total += c->lost(counter);
  }
  return total;
}

}  // namespace vigil
