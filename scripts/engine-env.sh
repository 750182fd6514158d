# shellcheck shell=sh
# Environment for running the Pulumi engine fully offline with local state.
#
#     . scripts/engine-env.sh STATE_DIR        (sh, bash, zsh)
#
# STATE_DIR (created if missing) holds everything the engine writes:
#   STATE_DIR/backend   file backend with the stacks' state   (PULUMI_BACKEND_URL)
#   STATE_DIR/home      PULUMI_HOME: credentials, plugin cache, logs; the
#                       user's ~/.pulumi (and any plugins cached there) is
#                       never read or written.
#
# Only PULUMI_CONFIG_PASSPHRASE(_FILE) is kept when the caller set it; the rest
# is forced, because offline operation depends on it:
#   PULUMI_SKIP_UPDATE_CHECK=true                   no CLI version check against pulumi.com
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true  never download a plugin
#   PULUMI_IGNORE_AMBIENT_PLUGINS=true              take the language host and the dynamic
#                                                   provider launcher from next to `pulumi`,
#                                                   not from whatever else is on PATH
#   PULUMI_DISABLE_REGISTRY_RESOLVE=true            no Pulumi Registry look-ups
#   PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true   Automation API: accept this CLI build
#   PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true       quiet file-backend warning
#   PULUMI_CONFIG_PASSPHRASE                        secrets passphrase; a fixed demo value
#                                                   unless the caller set it (or _FILE)
#
# The `pulumi` binary itself comes from scripts/ensure-pulumi:
#     PATH="$(scripts/ensure-pulumi):$PATH"

if [ -z "${1:-}" ]; then
    echo "usage: . scripts/engine-env.sh STATE_DIR" >&2
    return 2 2>/dev/null || exit 2
fi

mkdir -p "$1/backend" "$1/home" || { return 1 2>/dev/null || exit 1; }
DATAGOL_ENGINE_STATE=$(cd "$1" && pwd)
export DATAGOL_ENGINE_STATE

export PULUMI_BACKEND_URL="file://$DATAGOL_ENGINE_STATE/backend"
export PULUMI_HOME="$DATAGOL_ENGINE_STATE/home"

if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    # Demo value only: anyone with the state and this file can decrypt the secrets.
    export PULUMI_CONFIG_PASSPHRASE="datagol-demo-passphrase"
fi

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
