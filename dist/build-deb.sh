#!/usr/bin/env bash
# Builds keymesh_<version>_all.deb from the jars the Maven build collected (dist/pom.xml runs it
# in the package phase). Usage: build-deb.sh VERSION LIB_DIR OUT_DIR
# A Maven version like 0.1.0-SNAPSHOT becomes the Debian version 0.1.0~SNAPSHOT, which sorts
# before 0.1.0, as a pre-release should.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: build-deb.sh VERSION LIB_DIR OUT_DIR" >&2; exit 2; }
version=${1//-/\~} lib=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
stage=$out/deb-root
rm -rf "$stage"
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/keymesh/bin" "$stage/usr/lib/keymesh/lib" \
  "$stage/lib/systemd/system" "$stage/usr/share/doc/keymesh/examples" "$stage/usr/share/keymesh"

install -m 0644 "$lib"/*.jar "$stage/usr/lib/keymesh/lib/"
for program in keymesh keymesh-authority keymesh-daemon keymesh-java; do
  install -m 0755 "$repo/ops/bin/$program" "$stage/usr/lib/keymesh/bin/"
done
for program in keymesh keymesh-authority keymesh-daemon; do
  ln -s "../lib/keymesh/bin/$program" "$stage/usr/bin/$program"
done
install -m 0644 "$repo"/ops/systemd/*.service "$stage/lib/systemd/system/"
install -m 0755 "$repo/ops/etcd-access.sh" "$stage/usr/share/keymesh/"
install -m 0644 "$here"/examples/*.yaml "$stage/usr/share/doc/keymesh/examples/"
install -m 0644 "$repo/README.md" "$repo"/docs/*.md "$stage/usr/share/doc/keymesh/"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/debian/control" > "$stage/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "$here/debian/$script" "$stage/DEBIAN/"
done
deb=$out/keymesh_${version}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1))"
