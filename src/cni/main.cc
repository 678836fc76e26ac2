// dove-cni: DOVE's CNI plugin. A runtime runs it without arguments, with the CNI_* environment
// and the network configuration on stdin (src/cni/plugin.h, docs/cni.md). A person who runs it
// by hand gets --help and --version.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "base/version.h"
#include "cni/plugin.h"

namespace {

constexpr const char* kHelp =
    "dove-cni: DOVE's CNI plugin (CNI spec 0.4.0 and 1.0.0). A container runtime runs it: the\n"
    "command and container in the environment (CNI_COMMAND=ADD|DEL|CHECK|VERSION,\n"
    "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME), the network configuration as JSON on stdin,\n"
    "the result or error JSON on stdout. ADD gives the container a veth whose host end the\n"
    "local dove-switch serves as an endpoint the controller allocates (MAC, IPs); DEL removes\n"
    "it. Configuration keys: cniVersion, name, type, controller, network (DOMAIN/NETWORK),\n"
    "token or tokenFile, switch, switchSocket, mtu, dataDir, portTimeout. See docs/cni.md.\n"
    "\n"
    "By hand:\n"
    "  echo '{\"cniVersion\":\"1.0.0\",\"name\":\"dove\",\"type\":\"dove-cni\",\n"
    "        \"controller\":\"ctl:8740\",\"network\":\"acme/web\"}' |\n"
    "  CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/run/netns/c1 CNI_IFNAME=eth0 dove-cni\n"
    "\n"
    "Options (by hand only): --help, --version.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
      std::cout << kHelp;
      return 0;
    }
    if (std::strcmp(argv[1], "--version") == 0) {
      std::cout << dove::base::VersionLine("dove-cni") << "\n";
      return 0;
    }
    std::cerr << "dove-cni: unknown argument " << argv[1]
              << " (a runtime runs dove-cni without arguments; see --help)\n";
    return 2;
  }
  // stdin is read only when the command takes a configuration: a person who runs dove-cni
  // without CNI_COMMAND gets the error (and a hint) at once instead of a waiting terminal.
  std::string input;
  const char* command = std::getenv("CNI_COMMAND");
  if (command == nullptr || *command == '\0') {
    std::cerr << "dove-cni: CNI_COMMAND is not set: a container runtime runs this plugin (see "
                 "--help)\n";
  } else if (std::strcmp(command, "VERSION") != 0) {
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return dove::cni::RunPlugin(
      [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        return value == nullptr ? std::nullopt : std::optional<std::string>(value);
      },
      input, std::cout);
}
