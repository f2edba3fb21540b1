/*
 * probe_x86_64.S - the long-mode x86-64 probe that answers one `check` per
 * run in QEMU's q35 board (qemu_answer_x86_64.py --real).
 *
 * Three 4 KiB pages at PROBE_BASE (8 MiB: QEMU RAM past the case's 4 MiB),
 * mapped at VA = PA by the case's own tables (vmmem-gen --arch x86_64 builds
 * that mapping into every case; long mode always translates, so the probe's
 * code, tables and stack must be reachable through the case's CR3):
 *
 *   page 0: supervisor code (the CPL 0 access, the exception stubs, init),
 *           the GDT (0x800), the TSS (0x880), the IDT (0x900);
 *   page 1: the supervisor stack (RSP0 of the TSS: exceptions from CPL 3);
 *   page 2: user code (the CPL 3 access), mapped U = 1, read-only.
 *
 * `init` runs once, at CPL 0 in long mode under the answerer's own identity
 * tables (the answerer enters long mode through gdbstub writes of CR4,
 * EFER, CR3, CR0 and CS): it builds the TSS descriptor and the IDT, loads
 * GDTR, IDTR and TR, and reloads CS and SS from its GDT.
 *
 * Per check the answerer writes CR4, EFER, CR3 and CR0 (the case's), the
 * inputs, RFLAGS (AC), RSP, CS/SS (0x08/0x10 for CPL 0, 0x23/0x1b for
 * CPL 3) and RIP (sup_access or user_access) through the gdbstub, and
 * continues to a breakpoint on `done`:
 *
 *   in:  rdi = VA, rsi = kind (0 load, 1 store, 2 fetch), r10 = store value,
 *        r8 = PKRU value, r9 = 1 to load PKRU first (CR4.PKE = 1)
 *   out: r14 = vector, r13 = error code (0 if none), r12 = CR2,
 *        r15 = RIP of the exception, rax = the loaded word
 *
 * Every run ends in an exception: `ud2` right after a load or store that
 * completed (RIP = the ud2: success), a #PF (CR2, error code), a #GP, or -
 * for fetches - the #UD of the marker word at the VA (RAM words the case
 * does not write are FE F8 xx xx: FE /7 is undefined, so the fetch traps
 * with RIP = the VA; read as a paging entry the word has bit 0 clear, not
 * present, like vmmem's zeros).
 */
    .code64
    .text
    .globl entry
entry:

/* ---- page 0: supervisor --------------------------------------------------- */
sup_access:
    test    %r9, %r9
    jz      1f
    mov     %r8d, %eax
    xor     %ecx, %ecx
    xor     %edx, %edx
    wrpkru
1:  cmp     $2, %esi
    je      3f
    cmp     $1, %esi
    je      2f
    movl    (%rdi), %eax
sup_done_ud:
    ud2
2:  mov     %r10d, %eax
    movl    %eax, (%rdi)
sup_done_ud_store:
    ud2
3:  jmp     *%rdi

/* Exception stubs: 16 bytes each, vector v at exc_stubs + 16 * v. */
    .balign 16
exc_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    mov     $\v, %r14d
    jmp     exc_common
    .endr

exc_common:
    xor     %r13d, %r13d
    /* vectors with an error code: 8, 10-14, 17, 21, 29, 30 */
    mov     $0x60227d00, %ecx
    bt      %r14d, %ecx
    jnc     1f
    pop     %r13
1:  mov     (%rsp), %r15            /* the faulting RIP */
    mov     %cr2, %r12
done:
    jmp     done                    /* the answerer's breakpoint */

/* Run once: TSS descriptor, IDT, GDTR, IDTR, TR, CS and SS. */
init:
    lea     tss(%rip), %rax
    lea     stack_top(%rip), %rbx
    mov     %rbx, 4(%rax)           /* TSS.RSP0 */
    lea     gdt(%rip), %rbx
    /* 64-bit TSS descriptor at GDT 0x28: limit 0x67, type 0x89 (available), P */
    mov     %rax, %rcx
    shl     $16, %rcx
    and     $0xffff0000, %ecx
    or      $0x67, %rcx
    mov     %rax, %rdx
    shr     $16, %rdx
    and     $0xff, %edx
    shl     $32, %rdx
    or      %rdx, %rcx
    mov     $0x89, %edx
    shl     $40, %rdx
    or      %rdx, %rcx
    mov     %rax, %rdx
    shr     $24, %rdx
    and     $0xff, %edx
    shl     $56, %rdx
    or      %rdx, %rcx
    mov     %rcx, 0x28(%rbx)
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     %rdx, 0x30(%rbx)
    /* IDT: 32 interrupt gates (type 0x8e, selector 0x08) to the stubs */
    lea     idt(%rip), %rdi
    lea     exc_stubs(%rip), %rsi
    xor     %ecx, %ecx
2:  mov     %rsi, %rax
    and     $0xffff, %eax
    mov     $0x08, %edx
    shl     $16, %rdx
    or      %rdx, %rax
    mov     $0x8e00, %edx
    shl     $32, %rdx
    or      %rdx, %rax
    mov     %rsi, %rdx
    shr     $16, %rdx
    and     $0xffff, %edx
    shl     $48, %rdx
    or      %rdx, %rax
    mov     %rax, (%rdi)
    mov     %rsi, %rdx
    shr     $32, %rdx
    mov     %rdx, 8(%rdi)
    add     $16, %rdi
    add     $16, %rsi
    inc     %ecx
    cmp     $32, %ecx
    jne     2b
    lea     gdt(%rip), %rax
    mov     %rax, gdtr+2(%rip)
    lgdt    gdtr(%rip)
    lea     idt(%rip), %rax
    mov     %rax, idtr+2(%rip)
    lidt    idtr(%rip)
    mov     $0x28, %ax
    ltr     %ax
    lea     3f(%rip), %rax
    pushq   $0x08
    push    %rax
    lretq
3:  mov     $0x10, %ax
    mov     %ax, %ss
    mov     %ax, %ds
    mov     %ax, %es
    jmp     done

    .balign 8
gdtr:
    .word   0x37
    .quad   0
    .balign 8
idtr:
    .word   32 * 16 - 1
    .quad   0

    .balign 0x800, 0
gdt:
    .quad   0
    .quad   0x00af9b000000ffff      /* 0x08: code, DPL 0, L, accessed */
    .quad   0x00cf93000000ffff      /* 0x10: data, DPL 0, accessed */
    .quad   0x00cff3000000ffff      /* 0x18: data, DPL 3, accessed (selector 0x1b) */
    .quad   0x00affb000000ffff      /* 0x20: code, DPL 3, L, accessed (selector 0x23) */
    .quad   0, 0                    /* 0x28: the TSS (built by init) */
    .balign 0x80, 0
tss:
    .fill   104, 1, 0
    .balign 0x100, 0
idt:
    .fill   32 * 16, 1, 0

/* ---- page 1: the supervisor stack --------------------------------------------- */
    .balign 0x1000, 0
stack:
    .fill   0x1000, 1, 0
stack_top:

/* ---- page 2: user code --------------------------------------------------------- */
user_access:
    test    %r9, %r9
    jz      1f
    mov     %r8d, %eax
    xor     %ecx, %ecx
    xor     %edx, %edx
    wrpkru
1:  cmp     $2, %esi
    je      3f
    cmp     $1, %esi
    je      2f
    movl    (%rdi), %eax
user_done_ud:
    ud2
2:  mov     %r10d, %eax
    movl    %eax, (%rdi)
user_done_ud_store:
    ud2
3:  jmp     *%rdi
    .balign 0x1000, 0
