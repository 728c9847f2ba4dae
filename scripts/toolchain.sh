# Sourced by scripts/*: puts a Node >= 22.12 and pnpm on PATH.
# The system Node is used when it is new enough; otherwise Node 24 and pnpm are installed from the
# npm registry (packages node-linux-<arch> and pnpm) into .tools/, which git ignores.
LEGO_NODE_VERSION="24.21.0"
LEGO_PNPM_VERSION="12.21.0"

lego_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lego_tools="$lego_root/.tools"

lego_node_ok() {
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  ((major > 22 || (major == 22 && minor >= 12)))
}

lego_toolchain_ensure() {
  export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 WRANGLER_SEND_METRICS=false
  export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$lego_root/node_modules/.cache/node-compile}"
  mkdir -p "$lego_tools/bin"
  local sys_node
  sys_node="$(command -v node || true)"
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "bootstrap: unsupported CPU $(uname -m)" >&2; return 1 ;;
  esac
  local tool_node="$lego_tools/node_modules/node-linux-$arch/bin/node"
  local tool_pnpm="$lego_tools/node_modules/pnpm/bin/pnpm.mjs"
  local need=()
  if [[ -n "$sys_node" ]] && lego_node_ok "$sys_node" && [[ ! -x "$tool_node" ]]; then
    ln -sf "$sys_node" "$lego_tools/bin/node"
  elif ! [[ -x "$tool_node" ]] || ! lego_node_ok "$tool_node" \
    || [[ "$("$tool_node" -p 'process.versions.node')" != "$LEGO_NODE_VERSION" ]]; then
    need+=("node-linux-$arch@$LEGO_NODE_VERSION")
  fi
  if ! [[ -f "$tool_pnpm" ]] || [[ "$(cat "$lego_tools/node_modules/pnpm/package.json" 2>/dev/null | grep -o '"version": *"[^"]*"' | head -1 | grep -o '[0-9][^"]*')" != "$LEGO_PNPM_VERSION" ]]; then
    need+=("pnpm@$LEGO_PNPM_VERSION")
  fi
  if ((${#need[@]})); then
    if ! command -v npm >/dev/null; then
      echo "bootstrap: npm is needed once to fetch ${need[*]} from the npm registry" >&2
      return 1
    fi
    printf '\033[2mbootstrap:\033[0m installing %s into .tools/\n' "${need[*]}" >&2
    [[ -f "$lego_tools/package.json" ]] || printf '{ "private": true }\n' >"$lego_tools/package.json"
    npm install --prefix "$lego_tools" --no-audit --no-fund --loglevel=error --no-package-lock "${need[@]}" >&2
  fi
  [[ -x "$tool_node" ]] && ln -sf "$tool_node" "$lego_tools/bin/node"
  cat >"$lego_tools/bin/pnpm" <<SH
#!/usr/bin/env bash
exec "$lego_tools/bin/node" "$tool_pnpm" "\$@"
SH
  chmod +x "$lego_tools/bin/pnpm"
  export PATH="$lego_tools/bin:$lego_root/node_modules/.bin:$PATH"
}
