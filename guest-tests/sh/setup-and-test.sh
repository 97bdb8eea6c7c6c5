# The administrator's set-up and the test, as a shell script for busybox on the board
# (run --cpu unicorn --sh): bind the PL330 to its VFIO driver the way the running kernel
# offers (2014 series: unbind + vfio_bind; mainline: driver_override + unbind + drivers_probe
# on the device's own bus), find its group through the iommu_group link, run the C test.
dev=${1:-2c0a0000.dma}
for bus in amba platform; do
	[ -e /sys/bus/$bus/devices/$dev ] && break
done
d=/sys/bus/$bus/devices/$dev
echo "device $dev on bus $bus"
drv=$(readlink $d/driver)
drv=${drv##*/}
echo "bound to ${drv:-nothing}"
if [ -e /sys/bus/platform/drivers/vfio-platform/vfio_bind ]; then
	want=vfio-platform
	[ -n "$drv" ] && [ "$drv" != $want ] && echo $dev > /sys/bus/$bus/drivers/$drv/unbind
	echo $dev > /sys/bus/platform/drivers/vfio-platform/vfio_bind || echo "vfio_bind failed"
else
	want=vfio-$bus
	echo $want > $d/driver_override || echo "driver_override failed"
	[ -n "$drv" ] && [ "$drv" != $want ] && echo $dev > /sys/bus/$bus/drivers/$drv/unbind
	echo $dev > /sys/bus/$bus/drivers_probe || echo "drivers_probe failed"
fi
drv=$(readlink $d/driver)
echo "now bound to ${drv##*/}"
g=$(readlink $d/iommu_group) || { echo "no iommu_group"; exit 1; }
g=${g##*/}
echo "group $g"
# no VFIO driver holds the group's device: no character device for the group (the program's
# open() of it is unchecked, as in the original, so say it here; the program still runs and
# meets its own first failure, e.g. CHECK_EXTENSION on a kernel without the series)
[ -e /dev/vfio/$g ] || echo "no /dev/vfio/$g"
/bin/pl330-vfio-test /dev/vfio/$g $dev
rc=$?
echo "test exit $rc"
exit $rc
