# First installation: the refresh units as the presets say (enabled, by
# 90-nvidia-container-toolkit.preset, unless an operator's preset says otherwise).
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload preset nvidia-cdi-refresh.path nvidia-cdi-refresh.service >/dev/null 2>&1 || :
fi
exit 0
