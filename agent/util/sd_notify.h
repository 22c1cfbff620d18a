#pragma once

#include <string>

namespace vigil {

// Sends one message to systemd's $NOTIFY_SOCKET ("READY=1", "STATUS=…"). A few
// lines instead of libsystemd, which would pull in libgcrypt, lz4, lzma and
// zstd. Does nothing when the variable is unset.
void sd_notify_send(const std::string& message);
// Half of $WATCHDOG_USEC in milliseconds, or 0 when the watchdog is off.
long sd_watchdog_interval_ms();

}  // namespace vigil
