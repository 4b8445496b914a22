#include "connectors/source_formats.hpp"

#include "connectors/ms_marketplace/ms_marketplace_format.hpp"

namespace leadrelay::connectors {
namespace {
constexpr SourceFormat kFormats[] = {
    {ms_marketplace::kFormatName, &ms_marketplace::map_lead},
};
}  // namespace

const SourceFormat* find_format(std::string_view name) {
  for (const auto& f : kFormats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string_view> format_names() {
  std::vector<std::string_view> out;
  for (const auto& f : kFormats) out.push_back(f.name);
  return out;
}

}  // namespace leadrelay::connectors
