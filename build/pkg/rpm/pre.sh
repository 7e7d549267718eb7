# Installing over the NVIDIA Container Toolkit (which this package obsoletes): its removal later
# in this transaction disables the refresh units, whose names nvct's units share. Note whether
# the operator had them enabled, so that %posttrans enables nvct's as they were.
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    for unit in nvidia-cdi-refresh.path nvidia-cdi-refresh.service; do
        if systemctl --quiet is-enabled "$unit" >/dev/null 2>&1; then
            mkdir -p /var/lib/rpm-state/nvct
            touch "/var/lib/rpm-state/nvct/enable-$unit"
        fi
    done
fi
exit 0
