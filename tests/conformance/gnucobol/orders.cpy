      *> A variable-length record: a table whose size its count gives
      *> (OCCURS DEPENDING ON), last in the record. orders.cob COPYs it
      *> and writes each record only as long as its lines.
       01  ORDER-REC.
           05  ORDER-ID       PIC X(6).
           05  LINE-COUNT     PIC 9(2).
           05  ORDER-LINE     OCCURS 0 TO 12 TIMES
                              DEPENDING ON LINE-COUNT.
               10  SKU        PIC X(5).
               10  QTY        PIC S9(3)   COMP-3.
               10  PRICE      PIC S9(5)V99 COMP.
