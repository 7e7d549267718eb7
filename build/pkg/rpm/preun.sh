# Erased (not upgraded): the refresh units disabled, and stopped where systemd runs.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload disable nvidia-cdi-refresh.path nvidia-cdi-refresh.service >/dev/null 2>&1 || :
    if [ -d /run/systemd/system ]; then
        systemctl stop nvidia-cdi-refresh.path nvidia-cdi-refresh.service >/dev/null 2>&1 || :
    fi
fi
exit 0
