      *> Writes notes.txt: 20 lines (LINE SEQUENTIAL: text, a record a
      *> line, trailing spaces dropped) of notes.cpy, with 0 to 4 tags
      *> each; compiled with -fodoslide, the fields after the tags move
      *> up to follow the tags there are. DISPLAYs each record as
      *> "R|id|count|score|delta|author" and each tag as "T|tag".
       IDENTIFICATION DIVISION.
       PROGRAM-ID. NOTES.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT NOTE-FILE ASSIGN TO "notes.txt"
               ORGANIZATION IS LINE SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD  NOTE-FILE.
       COPY "notes.cpy".
       WORKING-STORAGE SECTION.
       01  I                PIC 9(4) COMP.
       01  J                PIC 9(4) COMP.
       01  SGN              PIC S9   COMP.
       01  NO-TEXT          PIC 9(2).
       01  TAG-NO           PIC 9.
       PROCEDURE DIVISION.
           OPEN OUTPUT NOTE-FILE
           PERFORM VARYING I FROM 1 BY 1 UNTIL I > 20
               IF FUNCTION MOD(I, 3) = 0
                   MOVE 1 TO SGN
               ELSE
                   MOVE -1 TO SGN
               END-IF
               MOVE I TO NOTE-ID NO-TEXT
               COMPUTE TAG-COUNT = FUNCTION MOD(I, 5)
               COMPUTE SCORE = SGN * I * 12.34
               COMPUTE DELTA = SGN * I * 7
               MOVE SPACES TO AUTHOR
               IF FUNCTION MOD(I, 4) NOT = 0
                   STRING "WRITER " NO-TEXT DELIMITED BY SIZE
                       INTO AUTHOR
               END-IF
               DISPLAY "R|" NOTE-ID "|" TAG-COUNT "|" SCORE "|" DELTA
                   "|" AUTHOR
               PERFORM VARYING J FROM 1 BY 1 UNTIL J > TAG-COUNT
                   MOVE J TO TAG-NO
                   MOVE SPACES TO TAG (J)
                   STRING "T" NO-TEXT "-" TAG-NO DELIMITED BY SIZE
                       INTO TAG (J)
                   DISPLAY "T|" TAG (J)
               END-PERFORM
               WRITE NOTE-REC
           END-PERFORM
           CLOSE NOTE-FILE
           STOP RUN.
