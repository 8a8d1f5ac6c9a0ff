      * Reads the CUSTOMER records of tests/cli/export.rs from an
      * ASCII V file (customers.dat) as GnuCOBOL reads variable
      * sequential files by default: each record after a 2-byte
      * big-endian length that does not count itself and 2 zero bytes,
      * which is droplake export --recfm V --rdw-excludes-header.
      * Displays each record's length and fields. Compile with
      * -fsign=EBCDIC (see read_fixed.cob).
       IDENTIFICATION DIVISION.
       PROGRAM-ID. READVAR.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT CUST-FILE ASSIGN TO "customers.dat"
               ORGANIZATION IS SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD CUST-FILE
           RECORD VARYING IN SIZE FROM 1 TO 51 CHARACTERS
           DEPENDING ON REC-LEN.
       01 CUST-LINE PIC X(51).
       WORKING-STORAGE SECTION.
       01 WS-EOF PIC X VALUE "N".
       01 REC-LEN PIC 9(4) COMP.
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
                       MOVE SPACES TO CUSTOMER
                       MOVE CUST-LINE(1:REC-LEN) TO CUSTOMER
                       MOVE BALANCE TO OUT-BALANCE
                       MOVE RATE TO OUT-RATE
                       MOVE DELTA TO OUT-DELTA
                       MOVE VISITS TO OUT-VISITS
                       DISPLAY REC-LEN "|" CUST-ID "|" C-NAME "|"
                           OUT-BALANCE "|" OUT-RATE "|" OUT-DELTA "|"
                           OUT-VISITS "|" N-PHONES "|" PHONE(1) "|"
                           PHONE(2)
               END-READ
           END-PERFORM
           CLOSE CUST-FILE
           STOP RUN.
