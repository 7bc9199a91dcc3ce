// SPDX-License-Identifier: BSL-1.0
// Private to the library: the cores registered with one execution context,
// and the service that reaches them when that context shuts down.
#ifndef SINGLEFLIGHT_SRC_REGISTRY_HPP
#define SINGLEFLIGHT_SRC_REGISTRY_HPP

#include <singleflight/detail/group_state.hpp>

#include <boost/asio/execution_context.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace singleflight::detail {

// Shared by the service and the cores, so that a core that outlives its
// execution context can still unregister safely.
class group_registry {
 public:
  /// False if the context has already shut down.
  bool add(group_state* c);
  void remove(group_state* c) noexcept;
  /// Marks the registry shut down and destroys every parked caller.
  void shut_down() noexcept;

 private:
  std::mutex mutex_;
  std::vector<group_state*> cores_;
  bool shut_down_ = false;
};

class group_service : public boost::asio::execution_context::service {
 public:
  using key_type = group_service;
  static boost::asio::execution_context::id id;

  explicit group_service(boost::asio::execution_context& ctx);
  const std::shared_ptr<group_registry>& registry() const noexcept { return registry_; }

 private:
  void shutdown() override;
  std::shared_ptr<group_registry> registry_;
};

}  // namespace singleflight::detail

#endif
