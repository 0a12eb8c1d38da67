// The page served at "/": a small HTML document whose script fetches /status and renders the
// resolver x name matrix (verdict, answer, TTL, latency per cell) and the last events.
#pragma once

#include <string>

namespace ddnswatch::exporters {

/// The HTML of "/", self-contained (no external scripts, styles or fonts).
const std::string& status_page_html();

}  // namespace ddnswatch::exporters
