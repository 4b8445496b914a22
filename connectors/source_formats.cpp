#include "connectors/source_formats.hpp"

#include "connectors/ms_marketplace/ms_marketplace_format.hpp"
#include "connectors/pc_referral/pc_referral_format.hpp"

namespace leadrelay::connectors {
namespace {
constexpr SourceFormat kFormats[] = {
    {ms_marketplace::kFormatName, &ms_marketplace::map_lead},
    {pc_referral::kFormatName, &pc_referral::map_event, true},
    {pc_referral::kResourceFormat, &pc_referral::map_resource, false, true, pc_referral::kFormatName},
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
  for (const auto& f : kFormats) {
    if (!f.journal_only) out.push_back(f.name);
  }
  return out;
}

}  // namespace leadrelay::connectors
