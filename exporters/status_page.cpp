#include "exporters/status_page.h"

namespace ddnswatch::exporters {

const std::string& status_page_html() {
  static const std::string html = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ddnswatch</title></head>
<body><h1>ddnswatch</h1><p><a href="/status">/status</a> <a href="/metrics">/metrics</a></p></body>
</html>
)html";
  return html;
}

}  // namespace ddnswatch::exporters
