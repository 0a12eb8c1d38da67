#include "resolvers/cares_library.h"

#include <ares.h>

#include <memory>

#include "core/inet.h"

namespace ddnswatch::resolvers {

Result<CaresLibrary> CaresLibrary::init() {
  int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) {
    return make_error(ErrorCode::kInternal, std::string("ares_library_init: ") + ares_strerror(rc));
  }
  return CaresLibrary();
}

CaresLibrary::~CaresLibrary() {
  if (active_) ares_library_cleanup();
}

std::string cares_version() { return ares_version(nullptr); }

}  // namespace ddnswatch::resolvers

namespace ddnswatch::resolvers {

Result<std::string> system_resolver_address() {
  // c-ares reads the system's configuration (/etc/resolv.conf, the registry on Windows).
  ares_channel channel = nullptr;
  int rc = ares_init(&channel);
  if (rc != ARES_SUCCESS) {
    return make_error(ErrorCode::kNotFound,
                      std::string("cannot read the system's resolver: ") + ares_strerror(rc));
  }
  std::unique_ptr<std::remove_pointer_t<ares_channel>, decltype(&ares_destroy)> owned(
      channel, &ares_destroy);
  ares_addr_port_node* servers = nullptr;
  rc = ares_get_servers_ports(channel, &servers);
  std::unique_ptr<ares_addr_port_node, decltype(&ares_free_data)> list(servers, &ares_free_data);
  if (rc != ARES_SUCCESS || servers == nullptr) {
    return make_error(ErrorCode::kNotFound, "the system has no DNS resolver configured");
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(servers->family, &servers->addr, text, sizeof text);
  std::string address = text;
  const int port = servers->udp_port != 0 ? servers->udp_port : 53;
  if (servers->family == AF_INET6) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

}  // namespace ddnswatch::resolvers
