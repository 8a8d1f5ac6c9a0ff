      *> Writes orders.dat: 30 variable-length records of orders.cpy,
      *> with 0 to 12 lines each (RECORD VARYING ... DEPENDING ON). In
      *> GnuCOBOL's default variable format (COB_VARSEQ_FORMAT 0) each
      *> record follows a 4-byte header: its length, 2 bytes big-endian,
      *> not counting the header, then 2 zero bytes. DISPLAYs each
      *> record as "R|id|count" and each line as "L|sku|qty|price".
       IDENTIFICATION DIVISION.
       PROGRAM-ID. ORDERS.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT ORDER-FILE ASSIGN TO "orders.dat"
               ORGANIZATION IS SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD  ORDER-FILE
           RECORD IS VARYING IN SIZE FROM 8 TO 140 CHARACTERS
               DEPENDING ON REC-LEN.
       COPY "orders.cpy".
       WORKING-STORAGE SECTION.
       01  REC-LEN          PIC 9(4) COMP.
       01  I                PIC 9(4) COMP.
       01  J                PIC 9(4) COMP.
       01  NO-TEXT          PIC 9(4).
       PROCEDURE DIVISION.
           OPEN OUTPUT ORDER-FILE
           PERFORM VARYING I FROM 1 BY 1 UNTIL I > 30
               MOVE I TO NO-TEXT
               MOVE SPACES TO ORDER-ID
               STRING "OR" NO-TEXT DELIMITED BY SIZE INTO ORDER-ID
               COMPUTE LINE-COUNT = FUNCTION MOD(I * 5, 13)
               DISPLAY "R|" ORDER-ID "|" LINE-COUNT
               PERFORM VARYING J FROM 1 BY 1 UNTIL J > LINE-COUNT
                   MOVE SPACES TO SKU (J)
                   STRING "S" NO-TEXT DELIMITED BY SIZE INTO SKU (J)
                   COMPUTE QTY (J) = (I * J) - 50
                   COMPUTE PRICE (J) = (I * 1000 + J) / 7 - 2000
                   DISPLAY "L|" SKU (J) "|" QTY (J) "|" PRICE (J)
               END-PERFORM
               COMPUTE REC-LEN = 8 + LINE-COUNT * 11
               WRITE ORDER-REC
           END-PERFORM
           CLOSE ORDER-FILE
           STOP RUN.
