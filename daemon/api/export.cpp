#include "daemon/api/export.hpp"

#include <cmath>
#include <cstdio>

#include "daemon/api/lead_view.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::api {
namespace {

constexpr std::string_view kColumns[] = {
    "LeadCreationDateTime", "FirstName", "LastName", "Email", "Phone", "Company", "Title", "Country", "LeadSource",
    "CallToAction", "Offer", "LeadType", "Classification", "Status", "LeadQuality", "Email validity",
    "Phone validity", "DealName", "DealValue", "Currency", "CloseDate", "LeadId",
};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string with_thousands(std::int64_t n) {
  auto digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

}  // namespace

std::string export_cell(std::string_view value, ExportFormat format) {
  std::string cell;
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                         value[0] == '\t' || value[0] == '\r')) {
    cell += '\'';
  }
  if (format == ExportFormat::Tsv) {
    for (char c : value) cell += c == '\t' || c == '\n' || c == '\r' ? ' ' : c;
    return cell;
  }
  cell += value;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string export_table(const std::vector<store::LeadRow>& rows, ExportFormat format, std::int64_t total) {
  const char sep = format == ExportFormat::Csv ? ',' : '\t';
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += sep;
      out += export_cell(cells[i], format);
    }
    out += "\r\n";
  };
  line(std::vector<std::string>(std::begin(kColumns), std::end(kColumns)));
  for (const auto& row : rows) {
    model::Lead lead;
    if (!lead_of(row, lead)) continue;
    const auto& c = lead.contact;
    const auto& d = row.lifecycle.deal;
    line({log::format_utc_ms(lead.received_at_ms), c.first_name, c.last_name, c.email, c.phone, c.company, c.title,
          c.country.empty() ? c.country_raw : c.country, std::string(model::to_string(lead.origin)),
          std::string(model::to_string(lead.action.call_to_action)), lead.offer.id,
          std::string(model::to_string(lead.lead_type)), std::string(model::to_string(lead.classification)),
          std::string(model::to_string(row.lifecycle.status)), lead.quality, lead.email_check.verdict,
          lead.phone_check.verdict, d.name, d.value ? number(*d.value) : std::string(), d.currency, d.close_date,
          row.lead_id});
  }
  if (total > static_cast<std::int64_t>(rows.size())) {
    out += "# newest " + with_thousands(static_cast<std::int64_t>(rows.size())) + " of " + with_thousands(total) +
           "\r\n";
  }
  return out;
}

}  // namespace leadrelay::api
