/*
 * The PL330 registers the guest programs use (ARM DDI 0424D, "CoreLink DMA-330 DMA Controller
 * Technical Reference Manual", 3.3 Register summary): offsets in the region VFIO maps (region 0,
 * the controller's 4 KiB register frame).
 */
#ifndef PL330_REGS_H
#define PL330_REGS_H

#define DSR 0x000          /* DMA manager status */
#define INTEN 0x020        /* interrupt enable */
#define INTCLR 0x02c       /* interrupt clear */
#define FSRC 0x034         /* fault status, channels */
#define FTR(n) (0x040 + 4 * (n)) /* fault type of channel n */
#define CSR(n) (0x100 + 8 * (n)) /* channel n status */
#define DBGSTATUS 0xd00    /* debug status: 1 while an instruction is executing */
#define DBGCMD 0xd04       /* debug command: 0 executes DBGINST0/1 */
#define DBGINST0 0xd08     /* debug instruction 0: thread, channel, first two bytes */
#define DBGINST1 0xd0c     /* debug instruction 1: the next four bytes */

#endif
