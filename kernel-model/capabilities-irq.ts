/**
 * The capabilities of the interrupt core (kernel/irq/) and the GIC irqchip driver
 * (drivers/irqchip/irq-gic.c): part of the capability vocabulary (kernel-model/capabilities.ts,
 * `Capabilities` extends this), decided per profile in kernel-model/profile.ts like the rest.
 */
export interface IrqCapabilities {
  /**
   * how Linux irq numbers (virqs) relate to GIC interrupt IDs (hwirqs): 'legacy' (3.14
   * gic_init_bases for the primary GIC from DT, irq_start -1: hwirq_base 16,
   * irq_alloc_descs(-1, 16, gic_irqs - 16) returns 16 on a kernel whose only earlier
   * descriptors are the 16 of early_irq_init, and irq_domain_add_legacy(..., irq_base 16,
   * hwirq_base 16) maps every ID 16..gic_irqs-1 at boot: irq number = GIC ID, SPI N is irq
   * 32 + N, and every ID has a descriptor with the GIC chip and a flow handler
   * (gic_irq_domain_map) whether or not a specifier names it) or 'linear' (v6.12 irq_domain_create_linear: a descriptor is
   * allocated when a specifier is first mapped (irq_create_fwspec_mapping); the model hands
   * out numbers from 16 up in mapping order, its stand-in for the dynamic allocation; an ID
   * nobody mapped has no descriptor)
   */
  irqDomain: 'legacy' | 'linear';
  /**
   * which takes handle_fasteoi_irq (kernel/irq/chip.c) counts in kstat, the count
   * /proc/interrupts shows: 'every-take' (3.14: kstat_incr_irqs_this_cpu before the
   * "disabled or no action" check, so the take that finds a lazily disabled line and masks
   * it counts too) or 'handler-runs' (v6.12: kstat_incr_irqs_this_cpu after that check; a
   * take of a disabled line or of one without a handler is masked, marked pending and EOId
   * without being counted)
   */
  irqKstat: 'every-take' | 'handler-runs';
  /**
   * which descriptors get a /proc/interrupts row (show_interrupts, kernel/irq/proc.c):
   * 'action-or-count' (3.14: skipped only with no action and a zero count, so a line whose
   * handler was freed keeps its row and count) or 'action' (v6.12: skipped without an
   * action, whatever its count; also hidden, chained and kstat-less descriptors, which the
   * model has none of)
   */
  procInterruptsRows: 'action-or-count' | 'action';
  /**
   * the chip column of a GIC line's /proc/interrupts row (show_interrupts,
   * kernel/irq/proc.c): 'GIC' (3.14 gic_chip has no irq_print_chip: " %8s" of its name
   * "GIC") or 'GIC-0' (v6.12 gic_chip's irq_print_chip, gic_irq_print_chip in
   * drivers/irqchip/irq-gic.c: "GIC-%d" of the GIC's index, without padding or a leading
   * space; the primary GIC's domain has no pm_dev, whose node name it would print instead).
   * The kernel model runs the GIC in EOImode 0 (GICC_CTLR.EOImode clear, EOIR alone), which
   * on v6.12 is the kernel entered without HYP mode: gic_check_eoimode returns false (the
   * board's CPU interface is 8 KiB), gic_of_init disables supports_deactivate_key, and
   * gic_irq_domain_map gives the lines gic_chip, not gic_chip_mode1 (name "GICv2", EOImode 1)
   */
  gicChipLabel: 'GIC' | 'GIC-0';
  /**
   * how __setup_irq (kernel/irq/manage.c) decides whether a second handler may share a
   * line: 'request-flags' (3.14: both requests IRQF_SHARED and the same IRQF_TRIGGER_* bits
   * in the two requests' flags, so a request without trigger bits does not match one that
   * gave the line's type explicitly) or 'line-type' (v6.12: a request without trigger bits
   * first gets the line's configured type (irqd_get_trigger_type) ORed into its flags; a
   * shared request must then give the line's type, or set it when none was set before;
   * "Flags mismatch" prints the flags with the inherited bits)
   */
  irqSharedTrigger: 'request-flags' | 'line-type';
  /**
   * the genirq helpers skip the chip when its state already matches: false (3.14
   * kernel/irq/chip.c: mask_irq and unmask_irq always call the chip's irq_mask/irq_unmask,
   * irq_enable always unmasks, irq_shutdown always masks: an enable_irq after a lazy
   * disable_irq writes GICD_ISENABLER again, a free_irq of a masked line GICD_ICENABLER) or true
   * (v6.12: mask_irq/unmask_irq return early on irqd_irq_masked, irq_enable of an enabled line
   * and irq_shutdown (__irq_disable) go through them)
   */
  irqMaskStateCheck: boolean;
  /**
   * what mapping an interrupt specifier does with its trigger type: 'set-type' (3.14
   * irq_create_of_mapping: irq_set_irq_type when it differs from the line's, the GIC programmed
   * at once, a known hwirq reconfigured) or 'record' (v6.12 irq_create_fwspec_mapping:
   * irqd_set_trigger_type only, the GIC programmed at request_irq; a known hwirq with another
   * recorded type: "type mismatch, failed to map hwirq-%lu for %s!" and no mapping)
   */
  irqTypeAtMapping: 'set-type' | 'record';
  /**
   * the GIC driver's irq_set_type and how __irq_set_trigger wraps it: 'enable-check' (3.14
   * gic_set_type: SGIs and types other than level-high/rising-edge refused; ICFGR read,
   * ISENABLER read, an enabled ID disabled around an ICFGR write that happens even when
   * nothing changes) or 'masked-configure' (v6.12: IRQCHIP_SET_TYPE_MASKED, so mask_irq before
   * and unmask_irq after unless disabled; gic_configure_irq writes ICFGR only when it changes
   * and reads it back; an SGI accepts rising edge)
   */
  gicSetType: 'enable-check' | 'masked-configure';
}
