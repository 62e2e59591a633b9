#!/usr/bin/env bash
# The licence line of every source file: SPDX-License-Identifier: MIT
# (LICENSE; https://spdx.org/licenses/MIT.html).
#
#   scripts/spdx.sh           adds the line to every tracked source file
#                             that lacks it (idempotent), lists what changed
#   scripts/spdx.sh --check   lists the files that lack it; exit 1 if any
#                             (ctest doc.spdx, disabled until the lines are in)
#
# Source files: the tracked *.c, *.h, *.py, *.sh, *.cmake and
# CMakeLists.txt, and files whose first line is a shebang (.ci/run); not
# test data (tests/data, tests/fuzz/corpus), generated pages or
# configuration examples. Where the line goes:
#   C:                    /* SPDX-License-Identifier: MIT */  as line 1
#   a file with #!:       # SPDX-License-Identifier: MIT      as line 2
#   other (py, CMake):    # SPDX-License-Identifier: MIT      as line 1
# A file has it when one of its first 3 lines holds the identifier.
set -euo pipefail
cd "$(dirname "$0")/.."

check=""
case ${1:-} in
--check) check=1 ;;
"") ;;
*) echo "usage: scripts/spdx.sh [--check]" >&2; exit 2 ;;
esac

id="SPDX-License-Identifier: MIT"

sources() {
  git ls-files -z | while IFS= read -r -d '' f; do
    case $f in
    tests/data/* | tests/fuzz/corpus/*) continue ;;
    *.c | *.h | *.py | *.sh | *.cmake | CMakeLists.txt | */CMakeLists.txt) ;;
    *) [ -f "$f" ] && [ "$(head -c 2 "$f")" = "#!" ] || continue ;;
    esac
    printf '%s\n' "$f"
  done
}

missing=0
while IFS= read -r f; do
  head -n 3 "$f" | grep -q "$id" && continue
  missing=$((missing + 1))
  if [ -n "$check" ]; then
    echo "$f"
    continue
  fi
  tmp=$(mktemp "$f.spdx.XXXXXX")
  case $f in
  *.c | *.h) { echo "/* $id */"; cat "$f"; } >"$tmp" ;;
  *)
    if [ "$(head -c 2 "$f")" = "#!" ]; then
      { head -n 1 "$f"; echo "# $id"; tail -n +2 "$f"; } >"$tmp"
    else
      { echo "# $id"; cat "$f"; } >"$tmp"
    fi
    ;;
  esac
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "added: $f"
done < <(sources)

if [ -n "$check" ] && [ "$missing" -gt 0 ]; then
  echo "spdx.sh: $missing source files lack \"$id\" (scripts/spdx.sh adds it)" >&2
  exit 1
fi
exit 0
