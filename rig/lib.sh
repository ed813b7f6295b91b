# Shared helpers for rig/build.sh and rig/build-guest-initramfs.sh (sourced, not run).
# Everything comes from Debian packages: apt-get download + dpkg-deb -x.

RIG_DIR=${RIG_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
ROOT=${ROOT:-$(cd "$RIG_DIR/.." && pwd)}
RIG_CACHE=${RIG_CACHE:-$ROOT/.cache/rig}

log() { printf 'rig: %s\n' "$*" >&2; }
die() { printf 'rig: error: %s\n' "$*" >&2; exit 1; }

# apt-get update at most once per build, and only when something must be looked up.
_rig_apt_updated=0
apt_update_once() {
    if [ "$_rig_apt_updated" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >&2 || log "apt-get update failed; using the lists there are"
        _rig_apt_updated=1
    fi
}

# Install host packages (by command name -> package) when a command is missing.
need_host_cmd() { # CMD PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_update_once
    log "installing $2 (for $1)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >&2 \
        || die "apt-get install $2 failed"
    command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
}

# Install a host package when one of its files is missing.
need_host_file() { # FILE PACKAGE
    [ -e "$1" ] && return 0
    apt_update_once
    log "installing $2 (for $1)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >&2 \
        || die "apt-get install $2 failed"
    [ -e "$1" ] || die "$1 still missing after installing $2"
}

# deb_get PACKAGE -> prints the path of the cached .deb (downloads it when absent).
deb_get() {
    local pkg=$1 f
    mkdir -p "$RIG_CACHE/debs"
    f=$(ls "$RIG_CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -1)
    if [ -z "$f" ]; then
        local tmp
        tmp=$(mktemp -d "$RIG_CACHE/debs/.dl.XXXXXX")
        chmod 755 "$tmp"
        id _apt >/dev/null 2>&1 && chown _apt "$tmp"
        if ! (cd "$tmp" && apt-get download -qq "$pkg" >&2); then
            apt_update_once
            (cd "$tmp" && apt-get download -qq "$pkg" >&2) || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
        fi
        mv "$tmp"/*.deb "$RIG_CACHE/debs/"
        rm -rf "$tmp"
        f=$(ls "$RIG_CACHE/debs/${pkg}_"*.deb | sort -V | tail -1)
        log "downloaded $(basename "$f") ($(du -h "$f" | cut -f1))"
    fi
    printf '%s\n' "$f"
}

# deb_extract PACKAGE -> prints the directory the .deb is unpacked in (cached).
deb_extract() {
    local deb dir
    deb=$(deb_get "$1") || exit 1
    dir="$RIG_CACHE/x/$(basename "$deb" .deb)"
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir"; mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
        touch "$dir/.done"
    fi
    printf '%s\n' "$dir"
}

# Newest linux ABI (6.1.0-N) for which both the generic and the cloud unsigned images exist.
pick_kernel_abi() {
    local n list
    list=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-(cloud-)?amd64-unsigned$' 2>/dev/null | awk '{print $1}')
    if [ -z "$list" ]; then
        apt_update_once
        list=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-(cloud-)?amd64-unsigned$' | awk '{print $1}')
    fi
    for n in $(printf '%s\n' "$list" | sed -nE 's/^linux-image-6\.1\.0-([0-9]+)-amd64-unsigned$/\1/p' | sort -rn); do
        if grep -qx "linux-image-6.1.0-$n-cloud-amd64-unsigned" <<< "$list"; then
            printf '6.1.0-%s\n' "$n"; return 0
        fi
    done
    die "no linux-image-6.1.0-*-amd64-unsigned with a matching cloud image in apt's lists"
}

# busybox staged into DIR with its applet links (/bin/sh etc.).
stage_busybox() { # BUSYBOX_EXTRACT_DIR DESTROOT
    local src=$1 dst=$2 a
    mkdir -p "$dst/bin" "$dst/sbin" "$dst/usr/bin" "$dst/usr/sbin"
    install -m 755 "$src/bin/busybox" "$dst/bin/busybox"
    for a in $("$src/bin/busybox" --list-full); do
        [ -e "$dst/$a" ] || [ -L "$dst/$a" ] || ln -s /bin/busybox "$dst/$a"
    done
}

# Module dependency closure, in load order (dependencies first).
# mod_closure MODDIR NAME... ; MODDIR = lib/modules/KVER; prints paths relative to MODDIR.
mod_closure() {
    local moddir=$1; shift
    declare -A seen=()
    local out=()
    _mod_path() { # name -> relative path via modules.order (names with - and _ alike)
        local n=${1//_/-} p
        p=$(grep -E "/(${n//-/[-_]})\.ko(\.xz|\.zst|\.gz)?$" "$moddir/modules.order" | head -1)
        [ -n "$p" ] || { echo "module $1 not found in $moddir" >&2; return 1; }
        printf '%s\n' "$p"
    }
    _mod_visit() {
        local name=$1 p deps d
        [ -n "${seen[$name]:-}" ] && return 0
        seen[$name]=1
        p=$(_mod_path "$name") || return 1
        deps=$(tr '\0' '\n' < "$moddir/$p" | sed -n 's/^depends=//p' | head -1)
        for d in ${deps//,/ }; do _mod_visit "$d" || return 1; done
        out+=("$p")
    }
    local m
    for m in "$@"; do _mod_visit "$m" || return 1; done
    printf '%s\n' "${out[@]}"
}

# Copy a dynamically linked program and every library ldd lists (plus the loader)
# into DESTROOT at the same paths. Static programs are copied alone.
copy_with_libs() { # FILE DESTROOT [DEST_PATH]
    local f=$1 root=$2 dest=${3:-$1} lib
    mkdir -p "$root/$(dirname "$dest")"
    cp -L "$f" "$root/$dest"
    ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | while read -r lib; do
        [ -e "$root/$lib" ] && continue
        mkdir -p "$root/$(dirname "$lib")"
        cp -L "$lib" "$root/$lib"
    done
}

# cpio (newc, root-owned) of DIR, gzip-compressed, to OUT (atomically).
mk_cpio_gz() { # DIR OUT
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 -n > "$2.tmp"
    mv "$2.tmp" "$2"
}

# A stamp of inputs: files' content hashes plus extra strings.
inputs_stamp() { # FILES... (directories hashed recursively)
    local f
    for f in "$@"; do
        if [ -d "$f" ]; then find "$f" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        elif [ -e "$f" ]; then sha256sum "$f"
        else printf '%s\n' "$f"
        fi
    done | sha256sum | cut -d' ' -f1
}

# Programs from Debian packages (not the host's), with their shared libraries and the
# loader taken from the same set of packages, for an initramfs.
# stage_deb_programs DESTROOT "PKG..." PATH...
#   PKG: packages to unpack (cached; include libc6 and every library package needed);
#   PATH: a program in one of them (e.g. /sbin/mke2fs), copied to DESTROOT at the same
#   path (replacing a busybox link there). Libraries are found by their DT_NEEDED names
#   (recursively) in the packages' lib directories and copied to the same paths; the
#   loader to the programs' PT_INTERP path. A library that none of the packages holds
#   is an error (nothing is taken from the host).
stage_deb_programs() {
    local root=$1 pkgs=$2; shift 2
    local dirs=() p d f lib interp rel
    for p in $pkgs; do
        d=$(deb_extract "$p") || return 1
        dirs+=("$(readlink -f "$d")")
    done
    _deb_find() { # PATH or NAME -> file inside one of the unpacked packages
        local want=$1 d c
        for d in "${dirs[@]}"; do
            case "$want" in
                /*) c=$(readlink -f "$d$want") || continue   # not an absolute link out of $d
                    case "$c" in "$d"/*) [ -f "$c" ] && { printf '%s\n' "$c"; return 0; } ;; esac ;;
                *) for c in "$d"/lib/x86_64-linux-gnu/"$want" "$d"/usr/lib/x86_64-linux-gnu/"$want"; do
                       [ -e "$c" ] && { printf '%s\n' "$c"; return 0; }
                   done ;;
            esac
        done
        return 1
    }
    _deb_rel() { # file inside an unpacked package -> its path in the package
        local d
        for d in "${dirs[@]}"; do case "$1" in "$d"/*) printf '%s\n' "${1#"$d"}"; return 0 ;; esac; done
        return 1
    }
    declare -A done_libs=()
    local queue=()
    for f in "$@"; do
        p=$(_deb_find "$f") || { log "$f is in none of: $pkgs"; return 1; }
        rm -f "$root$f"; mkdir -p "$root$(dirname "$f")"
        cp -L "$p" "$root$f"
        interp=$(readelf -l "$p" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
        if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
            lib=$(_deb_find "$(basename "$interp")") || { log "loader $interp is in none of: $pkgs"; return 1; }
            mkdir -p "$root$(dirname "$interp")"; cp -L "$lib" "$root$interp"
        fi
        queue+=("$p")
    done
    while [ ${#queue[@]} -gt 0 ]; do
        f=${queue[0]}; queue=("${queue[@]:1}")
        for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            [ -n "${done_libs[$lib]:-}" ] && continue
            done_libs[$lib]=1
            p=$(_deb_find "$lib") || { log "library $lib (for $(basename "$f")) is in none of: $pkgs"; return 1; }
            rel=$(_deb_rel "$p")
            mkdir -p "$root$(dirname "$rel")"; cp -L "$p" "$root$rel"
            queue+=("$p")
        done
    done
}

# An ext4 disk image a guest boots from (pygrub reads it on the host side, pvgrub2
# through blkfront): /boot/vmlinuz-KVER, /boot/initrd.img-KVER and /boot/grub/grub.cfg
# with the entries Debian's update-grub writes for a Xen guest (search by UUID, linux,
# initrd). The first entry is the default; GRUB and pygrub wait 1 s.
make_boot_disk() { # OUT KVER VMLINUZ INITRD
    local out=$1 kver=$2 vmlinuz=$3 initrd=$4 root uuid mib
    root=$(mktemp -d)
    mkdir -p "$root/boot/grub"
    cp "$vmlinuz" "$root/boot/vmlinuz-$kver"
    cp "$initrd" "$root/boot/initrd.img-$kver"
    uuid=5b1c7d2e-94a1-4f7e-8e0a-3c9d1f2a4b6e
    cat > "$root/boot/grub/grub.cfg" <<CFG
# As update-grub writes it for a Xen guest (trimmed).
set default=0
set timeout=1
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux, with Linux $kver' --class debian --class gnu-linux {
	insmod ext2
	search --no-floppy --fs-uuid --set=root $uuid
	echo	'Loading Linux $kver ...'
	linux	/boot/vmlinuz-$kver root=UUID=$uuid ro console=hvc0 quiet guest.scenario=bootdisk
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-$kver
}
menuentry 'Debian GNU/Linux, with Linux $kver (recovery mode)' --class debian {
	insmod ext2
	search --no-floppy --fs-uuid --set=root $uuid
	linux	/boot/vmlinuz-$kver root=UUID=$uuid ro single console=hvc0 guest.scenario=shell
	initrd	/boot/initrd.img-$kver
}
CFG
    mib=$(( ($(du -sm "$root" | cut -f1) + 16) ))
    rm -f "$out"
    mke2fs -q -t ext4 -U "$uuid" -L debian-boot -d "$root" "$out" "${mib}M" || { rm -rf "$root"; return 1; }
    rm -rf "$root"
}

# pygrub (Debian's xen-utils-4.17 on the host) with what it runs on, into DESTROOT at
# the host's paths: python3 and every module file a run of pygrub on IMAGE loaded (and
# their .pyc), the shared libraries of python, those modules and libxenfsimage's
# file system plugins, and the vt100 terminfo entry (pygrub's menu runs on a vt100).
stage_pygrub() { # DESTROOT IMAGE
    local root=$1 img=$2 py f tmp
    py=$(readlink -f /usr/bin/python3)   # pygrub's #! (not a python3 earlier in PATH)
    copy_with_libs "$py" "$root" "$py"
    ln -sf "$(basename "$py")" "$root/usr/bin/python3"
    tmp=$(mktemp -d)
    # The module files pygrub loads, found by running it (quietly) on the image.
    /usr/bin/python3 - "$img" "$tmp" > "$tmp/files" <<'PY' || { rm -rf "$tmp"; return 1; }
import os, runpy, sys
img, out = sys.argv[1], sys.argv[2]
sys.argv = ["pygrub", "-q", "--output-format=simple0", "--output-directory=" + out,
            "--output=" + os.devnull, img]
sys.path[0] = "/usr/lib/xen-4.17/bin"   # as when pygrub runs as a program
real_stdout = sys.stdout
sys.stdout = open(os.devnull, "w")
try:
    runpy.run_path("/usr/lib/xen-4.17/bin/pygrub", run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
files = set()
for m in list(sys.modules.values()):
    for attr in ("__file__", "__cached__"):
        f = getattr(m, attr, None)
        if f and os.path.exists(f):
            files.add(os.path.realpath(f))
real_stdout.write("\n".join(sorted(files)) + "\n")
PY
    while read -r f; do
        case "$f" in
            *.so) copy_with_libs "$f" "$root" "$f" ;;
            *) mkdir -p "$root$(dirname "$f")"; cp "$f" "$root$f" ;;
        esac
    done < "$tmp/files"
    rm -rf "$tmp"
    # Python's landmark for its prefix, the program itself, libxenfsimage's plugins.
    cp /usr/lib/python3*/os.py "$root/usr/lib/$(basename "$py")/" 2>/dev/null || true
    copy_with_libs /usr/lib/xen-4.17/bin/pygrub "$root" /usr/lib/xen-4.17/bin/pygrub
    for f in /usr/lib/xen-4.17/lib/x86_64-linux-gnu/xenfsimage/*/fsimage.so; do
        copy_with_libs "$f" "$root" "$f"
    done
    mkdir -p "$root/lib/terminfo/v"
    cp /lib/terminfo/v/vt100 "$root/lib/terminfo/v/vt100"
}
