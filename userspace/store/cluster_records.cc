#include "store/cluster_records.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/numbers.h"

namespace bpfnet::store {

namespace {

using nlohmann::json;

// Parses `text` as a JSON object and hands its fields to `read`; every
// failure becomes `KEY: ...`.
template <typename T, typename Read>
T read_record(std::string_view key, std::string_view text, Read&& read) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    throw core::UserError(fmt::format("{}: not valid JSON", key));
  }
  core::JsonFields fields(document, key, "");
  T record{};
  read(fields, record);
  return record;
}

core::Ipv4 ip_field(core::JsonFields& fields, std::string_view name) {
  std::string text = fields.required_string(name);
  return core::at_path(fields.root(), fields.path_of(name),
                       [&] { return core::Ipv4::parse(text); });
}

core::Cidr cidr_field(core::JsonFields& fields, std::string_view name, const std::string& text) {
  return core::at_path(fields.root(), fields.path_of(name),
                       [&] { return core::Cidr::parse(text); });
}

}  // namespace

std::string to_json(const HostRecord& host) {
  json subnets = json::array();
  for (const auto& subnet : host.local_subnets) subnets.push_back(subnet.to_string());
  return json{
      {"name", host.name}, {"underlay", host.underlay.to_string()}, {"local_subnets", subnets}}
      .dump();
}

std::string to_json(const NetworkRecord& network) {
  json out{{"id", network.id},
           {"name", network.name},
           {"created", network.created},
           {"subnet", network.subnet.to_string()},
           {"gateway", network.gateway.to_string()},
           {"internal", network.internal},
           {"options", network.options},
           {"vni", network.vni},
           {"created_by", network.created_by}};
  if (network.ip_range) out["ip_range"] = network.ip_range->to_string();
  return out.dump();
}

std::string to_json(const AddressRecord& address) {
  return json{{"host", address.host}, {"owner", address.owner}}.dump();
}

std::string to_json(const EndpointRecord& endpoint) {
  return json{{"network_id", endpoint.network_id}, {"endpoint_id", endpoint.endpoint_id},
              {"container", endpoint.container},   {"host", endpoint.host},
              {"ip", endpoint.ip.to_string()},     {"mac", endpoint.mac.to_string()}}
      .dump();
}

std::string to_json(const CheckRecord& check) {
  return json{{"service", check.service},
              {"service_host", check.service_host},
              {"network_id", check.network_id},
              {"endpoint_id", check.endpoint_id},
              {"host", check.host},
              {"port", check.port},
              {"health", core::health_to_json(check.health)}}
      .dump();
}

std::string to_json(const BackendHealthRecord& health) {
  return json{{"host", health.host}, {"healthy", health.healthy}, {"last_error", health.last_error}}
      .dump();
}

std::string vip_owner(std::string_view service) { return fmt::format("service {}", service); }

std::string to_json(const ServiceRecord& service) {
  return json{{"created_by", service.created_by},
              {"service", core::service_to_json(service.service)}}
      .dump();
}

HostRecord host_from_json(std::string_view key, std::string_view text) {
  return read_record<HostRecord>(key, text, [](core::JsonFields& fields, HostRecord& host) {
    host.name = fields.required_string("name");
    host.underlay = ip_field(fields, "underlay");
    for (const auto& subnet :
         fields.optional_string_array("local_subnets").value_or(std::vector<std::string>{})) {
      host.local_subnets.push_back(cidr_field(fields, "local_subnets", subnet));
    }
  });
}

NetworkRecord network_from_json(std::string_view key, std::string_view text) {
  return read_record<NetworkRecord>(key, text, [](core::JsonFields& fields, NetworkRecord& net) {
    net.id = fields.required_string("id");
    net.name = fields.required_string("name");
    net.created = fields.optional_string("created").value_or("");
    net.subnet = cidr_field(fields, "subnet", fields.required_string("subnet"));
    net.gateway = ip_field(fields, "gateway");
    if (auto range = fields.optional_string("ip_range")) {
      net.ip_range = cidr_field(fields, "ip_range", *range);
    }
    net.internal = fields.optional_bool("internal", false);
    net.options = fields.optional_string_map("options");
    net.vni = fields.required_uint32("vni");
    net.created_by = fields.optional_string("created_by").value_or("");
  });
}

AddressRecord address_from_json(std::string_view key, std::string_view text) {
  return read_record<AddressRecord>(key, text, [](core::JsonFields& fields, AddressRecord& a) {
    a.host = fields.required_string("host");
    a.owner = fields.optional_string("owner").value_or("");
  });
}

EndpointRecord endpoint_from_json(std::string_view key, std::string_view text) {
  return read_record<EndpointRecord>(key, text, [](core::JsonFields& fields, EndpointRecord& e) {
    e.network_id = fields.required_string("network_id");
    e.endpoint_id = fields.required_string("endpoint_id");
    e.container = fields.optional_string("container").value_or("");
    e.host = fields.required_string("host");
    e.ip = ip_field(fields, "ip");
    std::string mac = fields.required_string("mac");
    e.mac =
        core::at_path(fields.root(), fields.path_of("mac"), [&] { return core::Mac::parse(mac); });
  });
}

CheckRecord check_from_json(std::string_view key, std::string_view text) {
  return read_record<CheckRecord>(key, text, [](core::JsonFields& fields, CheckRecord& c) {
    c.service = fields.optional_string("service").value_or("");
    c.service_host = fields.required_string("service_host");
    c.network_id = fields.required_string("network_id");
    c.endpoint_id = fields.required_string("endpoint_id");
    c.host = fields.required_string("host");
    c.port = fields.required_uint16("port");
    if (c.port == 0) fields.fail("port", "must be 1..65535");
    const nlohmann::json* health = fields.find("health");
    if (health == nullptr) fields.fail("health", "missing");
    const std::string path = fields.path_of("health");
    core::HealthCheckSpec spec = core::health_spec_from_json(*health, fields.root(), path);
    c.health = core::at_path(fields.root(), path, [&] { return core::make_health_check(spec); });
  });
}

BackendHealthRecord backend_health_from_json(std::string_view key, std::string_view text) {
  return read_record<BackendHealthRecord>(
      key, text, [](core::JsonFields& fields, BackendHealthRecord& h) {
        h.host = fields.required_string("host");
        h.healthy = fields.required_bool("healthy");
        h.last_error = fields.optional_string("last_error").value_or("");
      });
}

ServiceRecord service_from_json(std::string_view key, std::string_view text) {
  return read_record<ServiceRecord>(key, text, [&](core::JsonFields& fields, ServiceRecord& r) {
    r.created_by = fields.required_string("created_by");
    const json* service = fields.find("service");
    if (service == nullptr) fields.fail("service", "missing (expected an object)");
    try {
      r.service = core::service_from_json(*service, "service");
    } catch (const core::UserError& e) {
      throw core::UserError(fmt::format("{}: {}", key, e.what()));
    }
  });
}

std::optional<uint32_t> requested_vni(const std::map<std::string, std::string>& options) {
  auto it = options.find(std::string(kVxlanIdListOption));
  if (it == options.end()) return std::nullopt;
  auto vni = core::parse_decimal(it->second, kMaxVni, core::LeadingZero::kRefused);
  if (!vni || *vni == 0) {
    throw core::UserError(fmt::format(
        "invalid {} \"{}\": expected one VXLAN ID 1..{} (an overlay network has one subnet)",
        kVxlanIdListOption, it->second, kMaxVni));
  }
  return static_cast<uint32_t>(*vni);
}

}  // namespace bpfnet::store
