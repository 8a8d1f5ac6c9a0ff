      *> Writes numbers.dat: fixed-length records of numbers.cpy, 40
      *> generated from the record number with alternating signs, then
      *> the largest magnitudes (negative, then positive) and all zeros.
      *> Each record's values are DISPLAYed on one line, separated by |,
      *> in the copybook's order, for the test to compare.
       IDENTIFICATION DIVISION.
       PROGRAM-ID. NUMBERS.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT NUMBERS-FILE ASSIGN TO "numbers.dat"
               ORGANIZATION IS SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD  NUMBERS-FILE.
       COPY "numbers.cpy".
       WORKING-STORAGE SECTION.
       01  I                PIC 9(4) COMP.
       01  SGN              PIC S9   COMP.
       01  NO-TEXT          PIC 9(4).
       PROCEDURE DIVISION.
           OPEN OUTPUT NUMBERS-FILE
           PERFORM VARYING I FROM 1 BY 1 UNTIL I > 40
               IF FUNCTION MOD(I, 2) = 0
                   MOVE 1 TO SGN
               ELSE
                   MOVE -1 TO SGN
               END-IF
               MOVE I TO REC-NO NO-TEXT
               MOVE SPACES TO LABEL-TEXT
               STRING "ITEM " NO-TEXT DELIMITED BY SIZE
                   INTO LABEL-TEXT
               COMPUTE PACKED-SIGNED   = SGN * I * 123456.79
               COMPUTE PACKED-UNSIGNED = I * 2345
               COMPUTE PACKED-EVEN     = SGN * I * 211
               COMPUTE ZONED-TRAILING  = SGN * I * 1234.57
               COMPUTE ZONED-LEADING   = SGN * I * 23
               COMPUTE ZONED-LEAD-SEP  = SGN * I * 12.3
               COMPUTE ZONED-TRAIL-SEP = SGN * I * 211
               COMPUTE ZONED-UNSIGNED  = I * 24601
               COMPUTE BIN-HALF     = SGN * I * 211
               COMPUTE BIN-FULL     = SGN * I * 24681357
               COMPUTE BIN-WIDE   = SGN * I * 12345678901234.567
               COMPUTE BIN-UNSIGNED = I * 211
               COMPUTE NATIVE-HALF     = SGN * I * 211
               COMPUTE NATIVE-FULL     = SGN * I * 24681357
               COMPUTE NATIVE-WIDE   = SGN * I * 123456789012345
               PERFORM WRITE-AND-SHOW
           END-PERFORM
           MOVE 41 TO REC-NO
           MOVE "LARGEST -" TO LABEL-TEXT
           MOVE -9999999.99 TO PACKED-SIGNED
           MOVE 99999 TO PACKED-UNSIGNED
           MOVE -9999 TO PACKED-EVEN
           MOVE -99999.99 TO ZONED-TRAILING
           MOVE -999 TO ZONED-LEADING
           MOVE -999.9 TO ZONED-LEAD-SEP
           MOVE -9999 TO ZONED-TRAIL-SEP
           MOVE 999999 TO ZONED-UNSIGNED
           MOVE -9999 TO BIN-HALF NATIVE-HALF
           MOVE -999999999 TO BIN-FULL NATIVE-FULL
           MOVE -999999999999999.999 TO BIN-WIDE
           MOVE 9999 TO BIN-UNSIGNED
           MOVE -999999999999999999 TO NATIVE-WIDE
           PERFORM WRITE-AND-SHOW
           MOVE 42 TO REC-NO
           MOVE "LARGEST +" TO LABEL-TEXT
           MOVE 9999999.99 TO PACKED-SIGNED
           MOVE 9999 TO PACKED-EVEN
           MOVE 99999.99 TO ZONED-TRAILING
           MOVE 999 TO ZONED-LEADING
           MOVE 999.9 TO ZONED-LEAD-SEP
           MOVE 9999 TO ZONED-TRAIL-SEP BIN-HALF NATIVE-HALF
           MOVE 999999999 TO BIN-FULL NATIVE-FULL
           MOVE 999999999999999.999 TO BIN-WIDE
           MOVE 999999999999999999 TO NATIVE-WIDE
           PERFORM WRITE-AND-SHOW
           INITIALIZE NUMBERS-REC
           MOVE 43 TO REC-NO
           MOVE "ZEROS" TO LABEL-TEXT
           PERFORM WRITE-AND-SHOW
           CLOSE NUMBERS-FILE
           STOP RUN.

       WRITE-AND-SHOW.
           WRITE NUMBERS-REC
           DISPLAY REC-NO "|" LABEL-TEXT "|" PACKED-SIGNED "|"
               PACKED-UNSIGNED "|" PACKED-EVEN "|" ZONED-TRAILING "|"
               ZONED-LEADING "|" ZONED-LEAD-SEP "|" ZONED-TRAIL-SEP "|"
               ZONED-UNSIGNED "|" BIN-HALF "|" BIN-FULL "|"
               BIN-WIDE "|" BIN-UNSIGNED "|" NATIVE-HALF "|"
               NATIVE-FULL "|" NATIVE-WIDE.
