# The units the replaced toolkit had enabled (see %pre), enabled again.
if [ -d /var/lib/rpm-state/nvct ]; then
    for unit in nvidia-cdi-refresh.path nvidia-cdi-refresh.service; do
        if [ -e "/var/lib/rpm-state/nvct/enable-$unit" ] && command -v systemctl >/dev/null 2>&1; then
            systemctl --no-reload enable "$unit" >/dev/null 2>&1 || :
        fi
    done
    rm -rf /var/lib/rpm-state/nvct
fi
if command -v udevadm >/dev/null 2>&1; then
    udevadm control --reload-rules >/dev/null 2>&1 || :
fi
# Only where systemd is running: watch the driver, and write /var/run/cdi/nvidia.yaml now (the
# service skips itself on a machine without an NVIDIA driver).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    systemctl start nvidia-cdi-refresh.path nvidia-cdi-refresh.service >/dev/null 2>&1 || :
fi
exit 0
