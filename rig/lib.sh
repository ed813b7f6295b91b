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
        if printf '%s\n' "$list" | grep -qx "linux-image-6.1.0-$n-cloud-amd64-unsigned"; then
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
