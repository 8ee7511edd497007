#include "cli/man_page.h"

#include <sstream>

namespace vkvision::cli {
namespace {

// Text as roff reads it: backslashes escaped, no line starting with a control character, and
// hyphens as \- so option names stay copyable.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

void write_options(std::ostream& out, CLI::App& command) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_group().empty()) continue;  // hidden
    std::string name =
        option->nonpositional() ? option->get_name(false, true) : option->get_name(true, false);
    if (option->get_type_name().size() && option->get_expected_max() != 0)
      name += " " + option->get_type_name();
    out << ".TP\n.B " << roff(name) << "\n" << roff(option->get_description());
    if (!option->get_default_str().empty()) out << " (default: " << roff(option->get_default_str()) << ")";
    if (option->get_required()) out << " (required)";
    out << "\n";
  }
}

}  // namespace

std::string man_page(CLI::App& app, const std::string& version) {
  std::ostringstream out;
  out << ".TH VKVISION 1 \"\" \"" << roff(version) << "\" \"User Commands\"\n";
  out << ".SH NAME\nvkvision \\- " << roff(app.get_description().substr(app.get_description().find(": ") + 2))
      << "\n";
  out << ".SH SYNOPSIS\n.B vkvision\n.I SUBCOMMAND\n[\\fIOPTIONS\\fR]\n.br\n.B vkvision\n"
      << "\\-\\-help | \\-\\-version\n";
  out << ".SH DESCRIPTION\n.nf\n" << roff(app.get_footer()) << "\n.fi\n";
  out << ".SH OPTIONS\n";
  write_options(out, app);
  out << ".SH SUBCOMMANDS\n";
  for (CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
    out << ".SS " << roff(command->get_name()) << "\n" << roff(command->get_description()) << "\n";
    write_options(out, *command);
  }
  out << ".SH SEE ALSO\n\\fBvkvision SUBCOMMAND \\-\\-help\\fR; the library's headers under "
         "/usr/include/vkvision, its CMake package (find_package(vkvision)) and \\fBimport vkvision\\fR.\n";
  return out.str();
}

}  // namespace vkvision::cli
