# The patch matrix as a shell on the board sees it, with sysfs only: which VFIO files the
# running kernel offers for the PL330, and what binding it to VFIO does there.
dev=${1:-2c0a0000.dma}
for bus in amba platform; do
	[ -e /sys/bus/$bus/devices/$dev ] && break
done
d=/sys/bus/$bus/devices/$dev
has() {
	if [ -e "$1" ]; then echo "$2: yes"; else echo "$2: no"; fi
}
echo "bus: $bus"
has /sys/bus/platform/drivers/vfio-platform "vfio-platform driver"
has /sys/bus/amba/drivers/vfio-amba "vfio-amba driver"
has /sys/bus/platform/drivers/vfio-platform/vfio_bind "vfio_bind"
has $d/driver_override "driver_override"
has $d/iommu_group "iommu_group link"
has /dev/vfio/vfio "/dev/vfio/vfio"
drv=$(readlink $d/driver)
drv=${drv##*/}
if [ -e /sys/bus/platform/drivers/vfio-platform/vfio_bind ]; then
	method=vfio_bind
	echo $dev > /sys/bus/$bus/drivers/$drv/unbind
	echo $dev > /sys/bus/platform/drivers/vfio-platform/vfio_bind
	rc=$?
elif [ -e $d/driver_override ]; then
	method=driver_override
	echo vfio-$bus > $d/driver_override && echo $dev > /sys/bus/$bus/drivers/$drv/unbind && echo $dev > /sys/bus/$bus/drivers_probe
	rc=$?
else
	method=none
	rc=1
fi
drv=$(readlink $d/driver)
echo "binding by $method: rc $rc, driver ${drv##*/}"
g=$(readlink $d/iommu_group) && echo "group ${g##*/}: $(ls /sys/kernel/iommu_groups/${g##*/}/devices)"
ls /dev/vfio
