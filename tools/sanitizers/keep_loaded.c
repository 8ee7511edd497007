/* Preloaded into the ASan test runs: keeps the Vulkan driver and layers mapped until the process
 * exits, so that LeakSanitizer (which looks after the loader has dlclosed them at vkDestroyInstance)
 * can name their modules and lsan.supp can match their leaks. Opened RTLD_LOCAL | RTLD_NODELETE
 * instead of being LD_PRELOADed themselves: preloading would interpose their exported
 * vkGetInstanceProcAddr and vkEnumerateInstance*Properties over the loader's.
 * Only in processes that link the Vulkan loader: in others (the shell popen() starts for the CLI
 * tests) the driver's teardown at exit trips LeakSanitizer ("__lsan_unregister_root_region(): region
 * ... has not been registered") and fails the process.
 * KEEP_LOADED: the libraries, separated by ':'. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void keep_loaded(void) {
  const char* list = getenv("KEEP_LOADED");
  if (!list || !dlopen("libvulkan.so.1", RTLD_NOW | RTLD_NOLOAD)) return;
  char* copy = strdup(list);
  if (!copy) return;
  for (char* name = strtok(copy, ":"); name; name = strtok(NULL, ":"))
    dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  free(copy);
}
