/* The ACPI tables a PVH domain gets from the toolstack: RSDP, XSDT, FADT
 * (hardware-reduced), an empty DSDT, and a MADT with one local APIC per vCPU
 * and no IOAPIC. Pure: builds into a buffer that will sit at guest address gpa. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define ACPI_OEM_ID "XENKVM"

/* Hardware-reduced ACPI's sleep control and reset registers, as I/O ports:
 * a write of SLP_EN with SLP_TYP 5 (the DSDT's _S5) powers off, a write of
 * ACPI_RESET_VALUE to the reset port reboots. */
#define ACPI_SLEEP_CTL_PORT 0x600
#define ACPI_SLEEP_STS_PORT 0x601
#define ACPI_RESET_PORT     0x602
#define ACPI_RESET_VALUE    0x01
#define ACPI_SLP_TYP_S5     5
#define ACPI_SLP_EN         (1u << 5)

/* Returns the RSDP's guest address, or 0 if size is too small. */
uint64_t acpi_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned nr_vcpus);
