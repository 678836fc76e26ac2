# Sourced by packaging/make-debs: the systemd parts of a package's maintainer scripts, as
# debhelper's dh_installsystemd writes them (Debian 12), for UNIT. Every systemctl call is
# guarded by /run/systemd/system, so the scripts work in a chroot or container without systemd:
# the unit is then only enabled (its symlinks made) and starts at the next boot.

systemd_postinst() {
  cat <<SNIPPET
if [ "\$1" = "configure" ] || [ "\$1" = "abort-upgrade" ] || [ "\$1" = "abort-deconfigure" ] || [ "\$1" = "abort-remove" ] ; then
	# This will only remove masks created by d-s-h on package removal.
	deb-systemd-helper unmask '$1' >/dev/null || true
	# was-enabled defaults to true, so new installations run enable.
	if deb-systemd-helper --quiet was-enabled '$1'; then
		deb-systemd-helper enable '$1' >/dev/null || true
	else
		deb-systemd-helper update-state '$1' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "\$2" ]; then
			_dove_action=restart
		else
			_dove_action=start
		fi
		deb-systemd-invoke \$_dove_action '$1' >/dev/null || true
	fi
fi
SNIPPET
}

systemd_prerm() {
  cat <<SNIPPET
if [ -d /run/systemd/system ] && [ "\$1" = remove ]; then
	deb-systemd-invoke stop '$1' >/dev/null || true
fi
SNIPPET
}

systemd_postrm() {
  cat <<SNIPPET
if [ "\$1" = "remove" ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "\$1" = "remove" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper mask '$1' >/dev/null || true
	fi
fi
if [ "\$1" = "purge" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper purge '$1' >/dev/null || true
		deb-systemd-helper unmask '$1' >/dev/null || true
	fi
fi
SNIPPET
}
