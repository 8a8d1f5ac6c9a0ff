      *> One record of every numeric kind GnuCOBOL writes: packed,
      *> zoned (overpunched and separate signs), binary (COMP, BINARY,
      *> COMP-4: big-endian) and native binary (COMP-5: the machine's
      *> byte order). numbers.cob COPYs it; droplake decodes by it.
       01  NUMBERS-REC.
           05  REC-NO           PIC 9(4).
           05  LABEL-TEXT       PIC X(12).
           05  PACKED-SIGNED    PIC S9(7)V99 COMP-3.
           05  PACKED-UNSIGNED  PIC 9(5)     COMP-3.
           05  PACKED-EVEN      PIC S9(4)    PACKED-DECIMAL.
           05  ZONED-TRAILING   PIC S9(5)V99.
           05  ZONED-LEADING    PIC S9(3)    SIGN LEADING.
           05  ZONED-LEAD-SEP   PIC S9(3)V9  SIGN LEADING SEPARATE.
           05  ZONED-TRAIL-SEP  PIC S9(4)    SIGN TRAILING SEPARATE.
           05  ZONED-UNSIGNED   PIC 9(6).
           05  BIN-HALF      PIC S9(4)    COMP.
           05  BIN-FULL      PIC S9(9)    BINARY.
           05  BIN-WIDE    PIC S9(15)V999 COMP.
           05  BIN-UNSIGNED  PIC 9(4)     COMP-4.
           05  NATIVE-HALF      PIC S9(4)    COMP-5.
           05  NATIVE-FULL      PIC S9(9)    COMP-5.
           05  NATIVE-WIDE    PIC S9(18)   COMP-5.
