"""Prints where `import vkvision` is found under an install prefix, relative to it (python/CMakeLists.txt
runs this at install time, so that `cmake --install --prefix P` and cpack's /usr both land on the
interpreter's path): the interpreter's own site directory under PREFIX when it has one there (the
shortest: Debian's /usr gives lib/python3/dist-packages, /usr/local lib/python3.X/dist-packages,
~/.local the user site), else lib/python3.X/site-packages (dist-packages for Debian's interpreter);
a prefix outside the interpreter's path then needs PYTHONPATH."""
import os
import site
import sys
import sysconfig

prefix = os.path.realpath(sys.argv[1])
candidates = list(site.getsitepackages()) + [site.getusersitepackages()]
inside = []
for directory in candidates:
    directory = os.path.realpath(directory)
    if os.path.commonpath([prefix, directory]) == prefix and directory != prefix:
        inside.append(os.path.relpath(directory, prefix))
if inside:
    print(min(inside, key=lambda path: len(path.split(os.sep))))
else:
    debian = "deb_system" in sysconfig.get_scheme_names()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    print(os.path.join("lib", version, "dist-packages" if debian else "site-packages"))
