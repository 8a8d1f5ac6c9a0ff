      * Reads the CUSTOMER records of tests/cli/export.rs from an
      * ASCII F file (customers.dat, 51-byte records, no delimiters)
      * and displays each field, so that GnuCOBOL, an independent
      * implementation, checks the bytes droplake export wrote.
      * Compile with -fsign=EBCDIC: droplake writes zoned signs as
      * IBM conversions do ({, A-I, }, J-R), not as GnuCOBOL's ASCII
      * default (p-y).
       IDENTIFICATION DIVISION.
       PROGRAM-ID. READFIX.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT CUST-FILE ASSIGN TO "customers.dat"
               ORGANIZATION IS SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD CUST-FILE.
       01 CUST-LINE PIC X(51).
       WORKING-STORAGE SECTION.
       01 WS-EOF PIC X VALUE "N".
       01 CUSTOMER.
          05 CUST-ID      PIC 9(6).
          05 C-NAME       PIC X(12).
          05 BALANCE      PIC S9(7)V99 COMP-3.
          05 RATE         PIC SV9(4).
          05 DELTA        PIC S9(3) SIGN LEADING SEPARATE.
          05 VISITS       PIC S9(4) COMP.
          05 FILLER       PIC X(2).
          05 N-PHONES     PIC 9.
          05 PHONE OCCURS 3 TIMES PIC X(5).
       01 OUT-BALANCE     PIC -9(7).99.
       01 OUT-RATE        PIC -9.9(4).
       01 OUT-DELTA       PIC -9(3).
       01 OUT-VISITS      PIC -9(4).
       PROCEDURE DIVISION.
           OPEN INPUT CUST-FILE
           PERFORM UNTIL WS-EOF = "Y"
               READ CUST-FILE
                   AT END
                       MOVE "Y" TO WS-EOF
                   NOT AT END
                       MOVE CUST-LINE TO CUSTOMER
                       MOVE BALANCE TO OUT-BALANCE
                       MOVE RATE TO OUT-RATE
                       MOVE DELTA TO OUT-DELTA
                       MOVE VISITS TO OUT-VISITS
                       DISPLAY CUST-ID "|" C-NAME "|" OUT-BALANCE "|"
                           OUT-RATE "|" OUT-DELTA "|" OUT-VISITS "|"
                           N-PHONES "|" PHONE(1) "|" PHONE(2)
               END-READ
           END-PERFORM
           CLOSE CUST-FILE
           STOP RUN.
