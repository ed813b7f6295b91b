/* The ACPI tables a PVH domain gets from the toolstack: RSDP, XSDT, FADT
 * (hardware-reduced), an empty DSDT, and a MADT with one local APIC per vCPU
 * and no IOAPIC. Pure: builds into a buffer that will sit at guest address gpa. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define ACPI_OEM_ID "XENKVM"

/* Returns the RSDP's guest address, or 0 if size is too small. */
uint64_t acpi_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned nr_vcpus);
